"""performance (issue 16): round-robin turns per (role, user) instead of one cursor row per role;
the indexes the volume benchmark's plans asked for (open tasks by creation, running SLA targets,
a case's events by kind)

Revision ID: 0018_h16
Revises: 0015_issue19
Create Date: 2026-12-07 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_h16'
down_revision = '0018_h18c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('round_robin_turns',
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_round_robin_turns_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role', 'user_id', name=op.f('pk_round_robin_turns'))
    )
    op.drop_table('round_robin_cursors')  # one row per role that every concurrent case locked
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_open_created', ['created_at', 'id'], unique=False,
                              postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_case_kind', ['case_id', 'kind'], unique=False)
    with op.batch_alter_table('sla_targets', schema=None) as batch_op:
        batch_op.create_index('ix_sla_targets_running_due', ['due_at', 'id'], unique=False,
                              postgresql_where=sa.text("state = 'running'"), sqlite_where=sa.text("state = 'running'"))
        batch_op.create_index('ix_sla_targets_running_warning', ['warning_at'], unique=False,
                              postgresql_where=sa.text("state = 'running'"), sqlite_where=sa.text("state = 'running'"))


def downgrade():
    with op.batch_alter_table('sla_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_targets_running_warning')
        batch_op.drop_index('ix_sla_targets_running_due')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_case_kind')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_created')
    op.create_table('round_robin_cursors',
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('last_user_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('role', name=op.f('pk_round_robin_cursors'))
    )
    op.drop_table('round_robin_turns')
