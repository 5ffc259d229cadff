"""audit events carry a hash chained to the previous event

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events written before this revision keep no hash; the chain starts with the next one.
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('audit_events', 'hash')
    op.drop_column('audit_events', 'prev_hash')
