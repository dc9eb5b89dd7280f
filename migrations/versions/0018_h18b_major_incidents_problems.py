"""major incidents (their linked cases, team, updates), the case collaborators a team gives, known problems

Revision ID: 0018_h18b
Revises: 0015_issue19
Create Date: 2026-12-07 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_h18b'
down_revision = '0015_issue19'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_collaborators',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'user_id', 'source')
    )
    with op.batch_alter_table('case_collaborators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_collaborators_user_id'), ['user_id'], unique=False)

    op.create_table('major_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('origin_case_id', sa.Integer(), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('solution', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('sla', sa.JSON(), nullable=False),
    sa.Column('escalations', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['origin_case_id'], ['cases.id']),
    sa.ForeignKeyConstraint(['declared_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('major_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_incidents_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_major_incidents_origin_case_id'), ['origin_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_major_incidents_declared_at'), ['declared_at'], unique=False)

    op.create_table('major_incident_cases',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_detail', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['major_incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('incident_id', 'case_id')
    )
    with op.batch_alter_table('major_incident_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_incident_cases_case_id'), ['case_id'], unique=False)

    op.create_table('major_incident_members',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['major_incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'user_id')
    )

    op.create_table('major_incident_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('reached', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['major_incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('major_incident_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_incident_updates_incident_id'), ['incident_id'], unique=False)

    op.create_table('known_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('product_version', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('known_problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_problems_customer_id'), ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('known_problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_problems_customer_id'))
    op.drop_table('known_problems')
    with op.batch_alter_table('major_incident_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_incident_updates_incident_id'))
    op.drop_table('major_incident_updates')
    op.drop_table('major_incident_members')
    with op.batch_alter_table('major_incident_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_incident_cases_case_id'))
    op.drop_table('major_incident_cases')
    with op.batch_alter_table('major_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_incidents_declared_at'))
        batch_op.drop_index(batch_op.f('ix_major_incidents_origin_case_id'))
        batch_op.drop_index(batch_op.f('ix_major_incidents_status'))
    op.drop_table('major_incidents')
    with op.batch_alter_table('case_collaborators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_collaborators_user_id'))
    op.drop_table('case_collaborators')
