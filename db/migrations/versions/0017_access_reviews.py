"""access review campaigns and their items (who keeps which role)

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_review_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('reviewer_roles', sa.String(length=120), nullable=False),
    sa.Column('opened_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by_user_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_email', sa.String(length=254), nullable=False),
    sa.Column('due_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('week_reminder_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('day_reminder_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['opened_by_user_id'], ['users.id'],
                            name=op.f('fk_access_review_campaigns_opened_by_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_review_campaigns'))
    )
    op.create_index(op.f('ix_access_review_campaigns_due_at'), 'access_review_campaigns',
                    ['due_at'], unique=False)
    op.create_table('access_review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_user_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_email', sa.String(length=254), nullable=False),
    sa.Column('reviewer_name', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_email', sa.String(length=254), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('role_label', sa.String(length=400), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=True),
    sa.Column('decided_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('role_removed_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('removed_by_name', sa.String(length=200), nullable=True),
    sa.CheckConstraint("decision IS NULL OR decision IN ('keep', 'remove')",
                       name=op.f('ck_access_review_items_decision')),
    sa.ForeignKeyConstraint(['campaign_id'], ['access_review_campaigns.id'],
                            name=op.f('fk_access_review_items_campaign_id_access_review_campaigns')),
    sa.ForeignKeyConstraint(['reviewer_user_id'], ['users.id'],
                            name=op.f('fk_access_review_items_reviewer_user_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_access_review_items_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['removed_by_user_id'], ['users.id'],
                            name=op.f('fk_access_review_items_removed_by_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_review_items'))
    )
    op.create_index('ix_access_review_items_reviewer', 'access_review_items',
                    ['campaign_id', 'reviewer_user_id'], unique=False)
    op.create_index('ix_access_review_items_person', 'access_review_items',
                    ['campaign_id', 'user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_access_review_items_person', table_name='access_review_items')
    op.drop_index('ix_access_review_items_reviewer', table_name='access_review_items')
    op.drop_table('access_review_items')
    op.drop_index(op.f('ix_access_review_campaigns_due_at'), table_name='access_review_campaigns')
    op.drop_table('access_review_campaigns')
