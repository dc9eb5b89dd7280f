"""complaints, surveys and follow-ups

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='support', nullable=False))
        batch_op.add_column(sa.Column('parent_case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_parent_case_id'), ['parent_case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_parent_case_id_cases'), 'cases', ['parent_case_id'], ['id'])
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deployed_on', sa.Date(), nullable=True))
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('milestone', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_via', sa.String(length=10), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('complaint_case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_surveys_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_surveys_case_id_cases')),
    sa.ForeignKeyConstraint(['complaint_case_id'], ['cases.id'], name=op.f('fk_surveys_complaint_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_token_hash'), ['token_hash'], unique=True)
    op.create_table('survey_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_failures'))
    )
    with op.batch_alter_table('survey_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_failures_remote_addr'), ['remote_addr'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_failures_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_failures_at'))
        batch_op.drop_index(batch_op.f('ix_survey_failures_remote_addr'))
    op.drop_table('survey_failures')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_token_hash'))
        batch_op.drop_index(batch_op.f('ix_surveys_case_id'))
    op.drop_table('surveys')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('deployed_on')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_parent_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_parent_case_id'))
        batch_op.drop_index(batch_op.f('ix_cases_kind'))
        batch_op.drop_column('parent_case_id')
        batch_op.drop_column('kind')
