"""visits and maintenance schedules as processes (issue 18, h18v): each visit's and each schedule's
process case (service_visits.process_case_id, maintenance_schedules.process_case_id)

Revision ID: 0020_h18v
Revises: 0019_h16v
Create Date: 2026-12-07 10:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_h18v'
down_revision = '0020_h18m'
branch_labels = None
depends_on = None

TABLES = ('service_visits', 'maintenance_schedules')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('process_case_id', sa.Integer(), nullable=True))
            batch.create_index(batch.f(f'ix_{table}_process_case_id'), ['process_case_id'])
            batch.create_foreign_key(batch.f(f'fk_{table}_process_case_id_cases'), 'cases', ['process_case_id'],
                                     ['id'])


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(batch.f(f'fk_{table}_process_case_id_cases'), type_='foreignkey')
            batch.drop_index(batch.f(f'ix_{table}_process_case_id'))
            batch.drop_column('process_case_id')
