"""dashboard rollups: daily report volume, account activity, first opening per recipient

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('report_recipients',
                  sa.Column('first_opened_at', db.base.UTCDateTime(timezone=True), nullable=True))
    # Openings recorded before this revision: the first read by a user of the account.
    op.execute("""
        UPDATE report_recipients SET first_opened_at = (
            SELECT min(r.first_opened_at) FROM report_reads r
            JOIN account_memberships m ON m.user_id = r.user_id
            WHERE r.report_id = report_recipients.report_id
              AND m.account_id = report_recipients.account_id)
    """)
    op.create_table('report_volume_daily',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('report_type', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('injury', sa.Boolean(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('turnaround_seconds', sa.BigInteger(), nullable=False),
    sa.Column('within_72h', sa.Integer(), nullable=False),
    sa.Column('routed', sa.Integer(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('opened_3d', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Integer(), nullable=False),
    sa.Column('redelivered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'day', 'report_type', 'provider_id', 'state', 'injury',
                            name=op.f('pk_report_volume_daily'))
    )
    op.create_index('ix_report_volume_daily_day', 'report_volume_daily', ['day', 'account_id'],
                    unique=False)
    op.create_table('account_activity_daily',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sign_ins', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Integer(), nullable=False),
    sa.Column('downloads', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'day', 'user_id', name=op.f('pk_account_activity_daily'))
    )
    op.create_index('ix_account_activity_daily_day', 'account_activity_daily',
                    ['day', 'account_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_account_activity_daily_day', table_name='account_activity_daily')
    op.drop_table('account_activity_daily')
    op.drop_index('ix_report_volume_daily_day', table_name='report_volume_daily')
    op.drop_table('report_volume_daily')
    op.drop_column('report_recipients', 'first_opened_at')
