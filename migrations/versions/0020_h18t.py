"""training sessions as a process (issue 18, h18t): each session's process case
(training_sessions.process_case_id) and the follow-up decision for one who missed it
(training_participants.excused_at, follow_up_note)

Revision ID: 0020_h18t
Revises: 0019_h16v
Create Date: 2026-12-07 10:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_h18t'
down_revision = '0019_h16v'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training_sessions') as batch:
        batch.add_column(sa.Column('process_case_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_training_sessions_process_case_id'), ['process_case_id'])
        batch.create_foreign_key(batch.f('fk_training_sessions_process_case_id_cases'), 'cases',
                                 ['process_case_id'], ['id'])
    with op.batch_alter_table('training_participants') as batch:
        batch.add_column(sa.Column('excused_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('follow_up_note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('training_participants') as batch:
        batch.drop_column('follow_up_note')
        batch.drop_column('excused_at')
    with op.batch_alter_table('training_sessions') as batch:
        batch.drop_constraint(batch.f('fk_training_sessions_process_case_id_cases'), type_='foreignkey')
        batch.drop_index(batch.f('ix_training_sessions_process_case_id'))
        batch.drop_column('process_case_id')
