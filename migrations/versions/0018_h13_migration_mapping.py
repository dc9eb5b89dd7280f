"""issue 13: a migration batch keeps the owner's mapping of renamed element ids (old -> new)

Revision ID: 0018_h13
Revises: 0015_issue19
Create Date: 2026-12-07 05:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_h13'
down_revision = '0018_h18b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('migration_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mapping', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('migration_batches', schema=None) as batch_op:
        batch_op.drop_column('mapping')
