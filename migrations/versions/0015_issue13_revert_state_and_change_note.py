"""issue 13: the instance's state right after a move (a revert compares it: a refused step's error
note does not block a revert), and the change note of a process version

Revision ID: 0015_issue13
Revises: 0014
Create Date: 2026-12-07 02:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_issue13'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instance_migrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_after', sa.Text(), nullable=True))
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_column('change_note')
    with op.batch_alter_table('instance_migrations', schema=None) as batch_op:
        batch_op.drop_column('state_after')
