"""accounting of disclosures: the index a patient's accounting reads

The accounting reads each report's trail (opened, previewed, downloaded, re-delivered,
corrected, withdrawn) within a period, oldest first. The index on (target_type, target_id)
becomes one on (target_type, target_id, occurred_at, id): the same lookups still use its
leading columns, and a report's events come out in time order within the period's bounds,
with no second index for every audit event to maintain.

Revision ID: 0020
Revises: 0019
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_events_target_time', 'audit_events',
                    ['target_type', 'target_id', 'occurred_at', 'id'], unique=False)
    op.drop_index('ix_audit_events_target', table_name='audit_events')


def downgrade() -> None:
    op.create_index('ix_audit_events_target', 'audit_events', ['target_type', 'target_id'],
                    unique=False)
    op.drop_index('ix_audit_events_target_time', table_name='audit_events')
