"""report types as data and per account; client account and provider details and
deactivation; email-change tokens; portal settings and published terms of use versions

Revision ID: 0013
Revises: 0012
"""
import os
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import db.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The ten types the portal started with, with the codes reports already carry. Payors and TPAs
# did not receive the two employer letters; the state form counted as an injury type.
_TYPES = [
    ("atf", "Alcohol testing form (ATF)", False, True),
    ("ccf", "Custody and control form (CCF)", False, True),
    ("injury_status", "Injury activity status report", True, True),
    ("referral", "Patient referral", True, True),
    ("no_show", "Employer no-show letter", False, True),
    ("transcription", "Transcription", True, True),
    ("transcription_summary", "Transcription summary", False, True),
    ("recheck_reminder", "Recheck appointment reminder letter", True, False),
    ("first_notice", "First notice of injury letter", True, False),
    ("state_wc_form", "State workers' compensation form", True, True),
]

# The terms text people accepted before the terms became data (version from the setting that
# named it then, so nobody is asked again because of this migration).
_TERMS_TEXT = """\
ResultsDesk is provided to authorised users of employers, workers' compensation payors, third
party administrators and medical providers to view and manage occupational-health results.

1. You use the portal only for the business purpose of your organisation and only for the
   patients and reports your organisation is entitled to.
2. Your user ID is your email address. Keep your password to yourself; never share an account.
3. Reports contain protected health information. Download them only where your organisation's
   policies allow, and store, share and destroy them as those policies require.
4. If you receive information in error, stop using it, do not share it, and report it at once
   through the portal or the HIPAA hotline. It will be removed from your view.
5. Activity in the portal is recorded, including which reports you open and download.
6. Access may be suspended or ended when these terms are not followed.
"""


def upgrade() -> None:
    now = datetime.now(timezone.utc)
    report_types = op.create_table('report_types',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('injury', sa.Boolean(), nullable=False),
    sa.Column('for_employers', sa.Boolean(), nullable=False),
    sa.Column('for_payors', sa.Boolean(), nullable=False),
    sa.Column('for_tpas', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_report_types')),
    sa.UniqueConstraint('name', name=op.f('uq_report_types_name'))
    )
    op.bulk_insert(report_types, [
        {"code": code, "name": name, "injury": injury, "for_employers": True,
         "for_payors": payors, "for_tpas": payors, "position": index, "created_at": now,
         "retired_at": None}
        for index, (code, name, injury, payors) in enumerate(_TYPES)])
    op.create_table('account_report_types',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('report_type', sa.String(length=32), nullable=False),
    sa.Column('receives', sa.Boolean(), nullable=False),
    sa.Column('changed_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                            name=op.f('fk_account_report_types_account_id_accounts')),
    sa.ForeignKeyConstraint(['report_type'], ['report_types.code'],
                            name=op.f('fk_account_report_types_report_type_report_types')),
    sa.PrimaryKeyConstraint('account_id', 'report_type', name=op.f('pk_account_report_types'))
    )
    # Plain ADD COLUMN: rebuilding accounts or providers on SQLite would trip the foreign keys
    # that point at them.
    op.add_column('accounts', sa.Column('external_ref', sa.String(length=60), nullable=True))
    op.add_column('accounts', sa.Column('contact_name', sa.String(length=200), server_default='', nullable=False))
    op.add_column('accounts', sa.Column('contact_email', sa.String(length=254), server_default='', nullable=False))
    op.add_column('accounts', sa.Column('contact_phone', sa.String(length=40), server_default='', nullable=False))
    op.add_column('accounts', sa.Column('deactivated_at', db.base.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_accounts_external_ref', 'accounts', ['external_ref'], unique=True)
    op.add_column('providers', sa.Column('postal_code', sa.String(length=10), server_default='', nullable=False))
    op.add_column('providers', sa.Column('provider_type', sa.String(length=60), server_default='', nullable=False))
    op.add_column('providers', sa.Column('phone', sa.String(length=40), server_default='', nullable=False))
    op.add_column('providers', sa.Column('fax', sa.String(length=40), server_default='', nullable=False))
    op.add_column('providers', sa.Column('deactivated_at', db.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_email', sa.String(length=254), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_tokens_purpose'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_tokens_purpose'), "purpose IN ('invitation', 'password_reset', 'email_change')")
    op.create_table('portal_settings',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'],
                            name=op.f('fk_portal_settings_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_portal_settings'))
    )
    terms_versions = op.create_table('terms_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'],
                            name=op.f('fk_terms_versions_published_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_terms_versions_version'))
    )
    version = os.environ.get("RESULTSDESK_TERMS_VERSION") or "2026-11"
    op.bulk_insert(terms_versions, [{"id": 1, "version": version, "text": _TERMS_TEXT,
                                     "published_at": now, "published_by": None}])
    op.create_table('terms_acceptances',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('terms_version_id', sa.Integer(), nullable=False),
    sa.Column('accepted_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['terms_version_id'], ['terms_versions.id'],
                            name=op.f('fk_terms_acceptances_terms_version_id_terms_versions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_terms_acceptances_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'terms_version_id', name=op.f('pk_terms_acceptances'))
    )
    op.execute(sa.text(
        "INSERT INTO terms_acceptances (user_id, terms_version_id, accepted_at) "
        "SELECT id, 1, terms_accepted_at FROM users "
        "WHERE terms_version = :version AND terms_accepted_at IS NOT NULL").bindparams(version=version))
    if op.get_bind().dialect.name == "postgresql":
        # Published with an explicit id above: move the sequence past it.
        op.execute("SELECT setval(pg_get_serial_sequence('terms_versions', 'id'), 1)")


def downgrade() -> None:
    op.drop_table('terms_acceptances')
    op.drop_table('terms_versions')
    op.drop_table('portal_settings')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tokens_purpose'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_tokens_purpose'), "purpose IN ('invitation', 'password_reset')")
        batch_op.drop_column('new_email')
    for column in ('deactivated_at', 'fax', 'phone', 'provider_type', 'postal_code'):
        op.drop_column('providers', column)
    op.drop_index('ix_accounts_external_ref', table_name='accounts')
    for column in ('deactivated_at', 'contact_phone', 'contact_email', 'contact_name', 'external_ref'):
        op.drop_column('accounts', column)
    op.drop_table('account_report_types')
    op.drop_table('report_types')
