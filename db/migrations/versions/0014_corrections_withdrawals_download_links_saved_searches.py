"""corrections and withdrawals of reports; single-use download links; saved searches

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: rebuilding reports on SQLite trips the foreign keys that point at it.
    op.add_column('reports', sa.Column('corrects_report_id', sa.Integer(), nullable=True))
    op.add_column('reports', sa.Column('withdrawn_at', db.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('withdrawn_reason', sa.String(length=40), nullable=True))
    op.create_index('ix_reports_corrects', 'reports', ['corrects_report_id'], unique=True)
    op.add_column('report_volume_daily', sa.Column('corrections', sa.Integer(), server_default='0', nullable=False))
    op.add_column('report_volume_daily', sa.Column('withdrawn', sa.Integer(), server_default='0', nullable=False))
    op.create_table('download_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('report_ids', sa.Text(), nullable=False),
    sa.Column('bundle_format', sa.String(length=8), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_download_links_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_download_links'))
    )
    op.create_index('ix_download_links_expires', 'download_links', ['expires_at'], unique=False)
    op.create_index(op.f('ix_download_links_user_id'), 'download_links', ['user_id'], unique=False)
    op.create_table('saved_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('filters', sa.Text(), nullable=False),
    sa.Column('in_email', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_looked_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_searches_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    sa.UniqueConstraint('user_id', 'name', name='uq_saved_searches_user_name')
    )


def downgrade() -> None:
    op.drop_table('saved_searches')
    op.drop_index(op.f('ix_download_links_user_id'), table_name='download_links')
    op.drop_index('ix_download_links_expires', table_name='download_links')
    op.drop_table('download_links')
    with op.batch_alter_table('report_volume_daily') as batch_op:
        batch_op.drop_column('withdrawn')
        batch_op.drop_column('corrections')
    op.drop_index('ix_reports_corrects', table_name='reports')
    # SQLite 3.35+ drops a column in place (no rebuild of reports).
    op.drop_column('reports', 'withdrawn_reason')
    op.drop_column('reports', 'withdrawn_at')
    op.drop_column('reports', 'corrects_report_id')
