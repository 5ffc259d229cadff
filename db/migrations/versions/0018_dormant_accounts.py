"""dormant accounts: the warning before deactivation

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('active_since', db.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('dormant_warned_at', db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('dormant_warned_at')
        batch.drop_column('active_since')
