"""running the service (issue 18, h18c): the special-service catalogue, visits and repair logs,
maintenance schedules, remote sessions, internal tasks

Revision ID: 0018_h18c
Revises: 0015_issue19
Create Date: 2026-12-07 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_h18c'
down_revision = '0018_h18a'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table('service_catalogue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', TZ, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('service_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('window_start', TZ, nullable=False),
    sa.Column('window_end', TZ, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('proposed_by', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('customer_note', sa.Text(), nullable=True),
    sa.Column('technician_id', sa.Integer(), nullable=True),
    sa.Column('in_warranty', sa.Boolean(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('catalogue_item_id', sa.Integer(), nullable=True),
    sa.Column('charge_cents', sa.Integer(), nullable=False),
    sa.Column('reminder_sent_at', TZ, nullable=True),
    sa.Column('confirmed_at', TZ, nullable=True),
    sa.Column('done_at', TZ, nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', TZ, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
    sa.ForeignKeyConstraint(['technician_id'], ['users.id']),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['catalogue_item_id'], ['service_catalogue.id']),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_visits_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_visits_window_start'), ['window_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_visits_status'), ['status'], unique=False)
    op.create_table('repair_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('arrived_at', TZ, nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', TZ, nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['service_visits.id']),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('repair_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_logs_visit_id'), ['visit_id'], unique=False)
    op.create_table('maintenance_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('installed_product_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', TZ, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['installed_product_id'], ['installed_products.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maintenance_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_schedules_installed_product_id'), ['installed_product_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_schedules_next_due'), ['next_due'], unique=False)
    op.create_table('remote_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('started_at', TZ, nullable=False),
    sa.Column('ended_at', TZ, nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', TZ, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('remote_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_sessions_case_id'), ['case_id'], unique=False)
    op.create_table('internal_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('minutes_spent', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', TZ, nullable=False),
    sa.Column('done_at', TZ, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
    sa.ForeignKeyConstraint(['schedule_id'], ['maintenance_schedules.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id']),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('internal_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_internal_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_internal_tasks_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_internal_tasks_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_internal_tasks_state'), ['state'], unique=False)


def downgrade():
    op.drop_table('internal_tasks')
    op.drop_table('remote_sessions')
    op.drop_table('maintenance_schedules')
    op.drop_table('repair_logs')
    op.drop_table('service_visits')
    op.drop_table('service_catalogue')
