"""risk reviews as a process (issue 18, h18p): the service's own organisation (customers.internal)
and each risk's review case (risks.review_case_id)

Revision ID: 0019_h18p
Revises: 0018_h16
Create Date: 2026-12-07 08:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_h18p'
down_revision = '0018_h16'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('internal', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch.create_index(batch.f('ix_customers_internal'), ['internal'])
    with op.batch_alter_table('risks') as batch:
        batch.add_column(sa.Column('review_case_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_risks_review_case_id'), ['review_case_id'])
        batch.create_foreign_key(batch.f('fk_risks_review_case_id_cases'), 'cases', ['review_case_id'], ['id'])


def downgrade():
    with op.batch_alter_table('risks') as batch:
        batch.drop_constraint(batch.f('fk_risks_review_case_id_cases'), type_='foreignkey')
        batch.drop_index(batch.f('ix_risks_review_case_id'))
        batch.drop_column('review_case_id')
    with op.batch_alter_table('customers') as batch:
        batch.drop_index(batch.f('ix_customers_internal'))
        batch.drop_column('internal')
