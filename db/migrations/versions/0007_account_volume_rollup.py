"""account volume rollup: reports routed per account, day, type and provider group

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_volume_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('report_type', sa.String(length=32), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('opened_3d', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'account_id', 'report_type', 'group_id',
                            name=op.f('pk_account_volume_daily'))
    )
    # A database that already has the finer rollup gets this one from it (0 is "every report").
    op.execute("""
        INSERT INTO account_volume_daily (day, account_id, report_type, group_id, reports, opened_3d)
        SELECT day, account_id, report_type, group_id, sum(reports), sum(opened_3d)
        FROM report_volume_daily WHERE account_id <> 0
        GROUP BY day, account_id, report_type, group_id
    """)


def downgrade() -> None:
    op.drop_table('account_volume_daily')
