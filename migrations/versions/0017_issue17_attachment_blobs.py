"""attachment blobs: attachment bytes kept in the database (ATTACHMENT_STORAGE=database)

Revision ID: 0017_issue17
Revises: 0016_issue17
Create Date: 2026-12-07 02:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_issue17'
down_revision = '0016_issue17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment_blobs',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_attachment_blobs'))
    )


def downgrade():
    op.drop_table('attachment_blobs')
