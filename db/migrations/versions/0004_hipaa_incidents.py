"""HIPAA error-removal incidents

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hipaa_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('wrong_account_id', sa.Integer(), nullable=False),
    sa.Column('reported_by', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('discovered_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assessment', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('closed_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'in_review', 'closed')", name=op.f('ck_hipaa_incidents_status')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_hipaa_incidents_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_hipaa_incidents_report_id_reports')),
    sa.ForeignKeyConstraint(['reported_by'], ['users.id'], name=op.f('fk_hipaa_incidents_reported_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wrong_account_id'], ['accounts.id'], name=op.f('fk_hipaa_incidents_wrong_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hipaa_incidents'))
    )
    op.create_index('ix_hipaa_incidents_queue', 'hipaa_incidents', ['status', 'discovered_at', 'id'], unique=False)
    op.create_index(op.f('ix_hipaa_incidents_report_id'), 'hipaa_incidents', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_hipaa_incidents_report_id'), table_name='hipaa_incidents')
    op.drop_index('ix_hipaa_incidents_queue', table_name='hipaa_incidents')
    op.drop_table('hipaa_incidents')
