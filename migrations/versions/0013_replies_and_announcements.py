"""replies to customers: mail threading headers, chat posts, update announcements

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 14:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_reply_to', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('mail_references', sa.Text(), nullable=True))

    op.create_table('chat_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('send_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_chat_posts_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_posts'))
    )
    with op.batch_alter_table('chat_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_posts_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_chat_posts_pending', ['send_after'], unique=False,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))

    op.create_table('update_announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notes_zh', sa.Text(), nullable=False),
    sa.Column('notes_en', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('customer_codes', sa.JSON(), nullable=False),
    sa.Column('reached', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_update_announcements_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_announcements'))
    )
    with op.batch_alter_table('update_announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_announcements_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('update_announcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_announcements_created_at'))
    op.drop_table('update_announcements')
    with op.batch_alter_table('chat_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_posts_pending', postgresql_where=sa.text("status = 'pending'"),
                            sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_chat_posts_case_id'))
    op.drop_table('chat_posts')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('mail_references')
        batch_op.drop_column('in_reply_to')
