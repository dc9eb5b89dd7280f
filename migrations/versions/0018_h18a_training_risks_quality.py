"""issue 18: training sessions and their participants, the risk register (risks, their evidence
links and reviews), quality audits of sampled closed cases

Revision ID: 0018_h18a
Revises: 0015_issue19
Create Date: 2026-12-07 04:49:30.364949

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_h18a'
down_revision = '0018_h15a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('contingency_plan', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=False),
    sa.Column('review_due_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_risks_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_risks_customer_id_customers')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_risks_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risks'))
    )
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risks_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risks_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_risks_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_risks_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risks_review_on'), ['review_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_risks_status'), ['status'], unique=False)

    op.create_table('training_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminder_hours', sa.Integer(), nullable=False),
    sa.Column('reminder_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_sessions_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_training_sessions_customer_id_customers')),
    sa.ForeignKeyConstraint(['trainer_id'], ['users.id'], name=op.f('fk_training_sessions_trainer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions'))
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_sessions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_reminder_due_at'), ['reminder_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_status'), ['status'], unique=False)

    op.create_table('quality_audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('period_first', sa.Date(), nullable=False),
    sa.Column('period_last', sa.Date(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('auditor_id', sa.Integer(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('audited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['users.id'], name=op.f('fk_quality_audits_auditor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_quality_audits_case_id_cases')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_quality_audits_drawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_audits')),
    sa.UniqueConstraint('case_id', name=op.f('uq_quality_audits_case_id'))
    )
    with op.batch_alter_table('quality_audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_audits_audited_at'), ['audited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_audits_period_first'), ['period_first'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_audits_status'), ['status'], unique=False)

    op.create_table('risk_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_risk_links_case_id_cases')),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_risk_links_linked_by_id_users')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_links_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_links')),
    sa.UniqueConstraint('risk_id', 'case_id', name='uq_risk_links_risk_case')
    )
    with op.batch_alter_table('risk_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_links_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_links_risk_id'), ['risk_id'], unique=False)

    op.create_table('risk_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_risk_reviews_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_reviews_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_reviews'))
    )
    with op.batch_alter_table('risk_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_reviews_risk_id'), ['risk_id'], unique=False)

    op.create_table('training_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attendance', sa.String(length=20), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moved_to_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_training_participants_case_id_cases')),
    sa.ForeignKeyConstraint(['moved_to_id'], ['training_sessions.id'], name=op.f('fk_training_participants_moved_to_id_training_sessions')),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_training_participants_session_id_training_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_participants'))
    )
    with op.batch_alter_table('training_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_participants_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_participants_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_participants_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('training_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_training_participants_session_id'))
        batch_op.drop_index(batch_op.f('ix_training_participants_case_id'))

    op.drop_table('training_participants')
    with op.batch_alter_table('risk_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_reviews_risk_id'))

    op.drop_table('risk_reviews')
    with op.batch_alter_table('risk_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_links_risk_id'))
        batch_op.drop_index(batch_op.f('ix_risk_links_case_id'))

    op.drop_table('risk_links')
    with op.batch_alter_table('quality_audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_audits_status'))
        batch_op.drop_index(batch_op.f('ix_quality_audits_period_first'))
        batch_op.drop_index(batch_op.f('ix_quality_audits_audited_at'))

    op.drop_table('quality_audits')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_sessions_status'))
        batch_op.drop_index(batch_op.f('ix_training_sessions_starts_at'))
        batch_op.drop_index(batch_op.f('ix_training_sessions_reminder_due_at'))
        batch_op.drop_index(batch_op.f('ix_training_sessions_kind'))
        batch_op.drop_index(batch_op.f('ix_training_sessions_customer_id'))

    op.drop_table('training_sessions')
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risks_status'))
        batch_op.drop_index(batch_op.f('ix_risks_review_on'))
        batch_op.drop_index(batch_op.f('ix_risks_owner_id'))
        batch_op.drop_index(batch_op.f('ix_risks_level'))
        batch_op.drop_index(batch_op.f('ix_risks_kind'))
        batch_op.drop_index(batch_op.f('ix_risks_customer_id'))

    op.drop_table('risks')
