"""reports: delivery time, reads, patient-name search; outbox for email

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Patient names are searched by word prefix. SQLite keeps an FTS5 copy of each name in step by
# trigger; PostgreSQL indexes the same words with a GIN index over a 'simple' tsvector.
# The expression is the search's (db.models.reports.PG_NAME_VECTOR), which folds accents.
from db.models.reports import PG_NAME_VECTOR  # noqa: E402


def upgrade() -> None:
    # Added in place (no table rebuild: on SQLite a rebuild drops and re-creates reports, which
    # would cascade to its routing rows). The placeholder default is overwritten at once.
    op.add_column('reports', sa.Column('delivered_at', db.base.UTCDateTime(timezone=True), nullable=False,
                                       server_default=sa.text("'1970-01-01 00:00:00'")))
    op.execute("UPDATE reports SET delivered_at = posted_at")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('reports', 'delivered_at', server_default=None)
    op.drop_index('ix_reports_patient_id', table_name='reports')
    op.create_index('ix_reports_patient_posted', 'reports', ['patient_id', 'posted_at', 'id'], unique=False)
    op.create_index('ix_reports_delivered', 'reports', ['delivered_at'], unique=False)

    op.add_column('users', sa.Column('results_notified_at', db.base.UTCDateTime(timezone=True), nullable=True))

    op.create_table('report_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('first_opened_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_reads_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'report_id', name=op.f('pk_report_reads'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_outbox_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE patient_name_search USING fts5("
                   "name, tokenize = 'unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO patient_name_search (rowid, name) "
                   "SELECT id, first_name || ' ' || last_name FROM patients")
        op.execute("CREATE TRIGGER patients_name_insert AFTER INSERT ON patients BEGIN "
                   "INSERT INTO patient_name_search (rowid, name) "
                   "VALUES (new.id, new.first_name || ' ' || new.last_name); END")
        op.execute("CREATE TRIGGER patients_name_update AFTER UPDATE OF first_name, last_name "
                   "ON patients BEGIN "
                   "UPDATE patient_name_search SET name = new.first_name || ' ' || new.last_name "
                   "WHERE rowid = new.id; END")
        op.execute("CREATE TRIGGER patients_name_delete AFTER DELETE ON patients BEGIN "
                   "DELETE FROM patient_name_search WHERE rowid = old.id; END")
    else:
        op.execute(f"CREATE INDEX ix_patients_name_search ON patients USING gin ({PG_NAME_VECTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("patients_name_insert", "patients_name_update", "patients_name_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS patient_name_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_patients_name_search")
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('report_reads')
    op.drop_column('users', 'results_notified_at')
    op.drop_index('ix_reports_delivered', table_name='reports')
    op.drop_index('ix_reports_patient_posted', table_name='reports')
    op.create_index('ix_reports_patient_id', 'reports', ['patient_id'], unique=False)
    op.drop_column('reports', 'delivered_at')
