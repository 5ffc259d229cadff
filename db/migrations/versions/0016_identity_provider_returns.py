"""returns from the staff identity provider that have been used (one session per return)

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_provider_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('used_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider_returns')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_identity_provider_returns_fingerprint'))
    )
    op.create_index(op.f('ix_identity_provider_returns_used_at'), 'identity_provider_returns', ['used_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_provider_returns_used_at'), table_name='identity_provider_returns')
    op.drop_table('identity_provider_returns')
