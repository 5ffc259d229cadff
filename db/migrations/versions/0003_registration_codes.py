"""registration codes for provider groups

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registration_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('facility_name', sa.String(length=200), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('issued_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['provider_groups.id'], name=op.f('fk_registration_codes_group_id_provider_groups')),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_registration_codes_issued_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_registration_codes_code_hash'))
    )
    op.create_index(op.f('ix_registration_codes_npi'), 'registration_codes', ['npi'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_registration_codes_npi'), table_name='registration_codes')
    op.drop_table('registration_codes')
