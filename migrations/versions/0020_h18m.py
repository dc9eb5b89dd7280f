"""major incidents as a process (issue 18, h18m): each incident's own case of kind major_incident
(major_incidents.process_case_id), running processes/major_incident.bpmn

Revision ID: 0020_h18m
Revises: 0019_h16v
Create Date: 2026-12-07 10:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_h18m'
down_revision = '0020_h18t'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('major_incidents') as batch:
        batch.add_column(sa.Column('process_case_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_major_incidents_process_case_id'), ['process_case_id'])
        batch.create_foreign_key(batch.f('fk_major_incidents_process_case_id_cases'), 'cases',
                                 ['process_case_id'], ['id'])


def downgrade():
    with op.batch_alter_table('major_incidents') as batch:
        batch.drop_constraint(batch.f('fk_major_incidents_process_case_id_cases'), type_='foreignkey')
        batch.drop_index(batch.f('ix_major_incidents_process_case_id'))
        batch.drop_column('process_case_id')
