"""what-if replays: saved replays (whatif_runs) and the customer's tier kept on each case at opening

Revision ID: 0015_issue19
Revises: 0014
Create Date: 2026-12-07 02:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_issue19'
down_revision = '0015_issue15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier_at_open', sa.String(length=20), nullable=True))

    op.create_table('whatif_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('first', sa.Date(), nullable=False),
    sa.Column('last', sa.Date(), nullable=False),
    sa.Column('proposal', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('whatif_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatif_runs_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('whatif_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatif_runs_created_at'))
    op.drop_table('whatif_runs')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('tier_at_open')
