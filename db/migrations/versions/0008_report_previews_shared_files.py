"""report previews; reports from different clinics may share one stored file

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Rows that name a report and go with it when SQLite rebuilds the reports table.
_CASCADING_CHILDREN = ("report_recipients", "report_reads")


def upgrade() -> None:
    op.create_table('report_previews',
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('drawing', 'ready', 'failed')", name=op.f('ck_report_previews_status')),
    sa.PrimaryKeyConstraint('file_sha256', name=op.f('pk_report_previews'))
    )
    op.create_index('ix_report_previews_status', 'report_previews', ['status', 'updated_at'], unique=False)
    _rebuild_reports(lambda batch: batch.drop_constraint('uq_reports_file_sha256', type_='unique'))
    op.create_index('ix_reports_file_sha256', 'reports', ['file_sha256'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reports_file_sha256', table_name='reports')
    _rebuild_reports(lambda batch: batch.create_unique_constraint('uq_reports_file_sha256',
                                                                  ['file_sha256']))
    op.drop_index('ix_report_previews_status', table_name='report_previews')
    op.drop_table('report_previews')


def _rebuild_reports(change) -> None:
    """Change a constraint of reports; on SQLite without losing the rows that name a report.

    SQLite cannot drop a constraint in place: the table is copied, dropped and re-created. With
    foreign keys on (they cannot be switched off inside the migration's transaction), dropping
    reports deletes the routing and read rows by ON DELETE CASCADE, so they are kept aside and
    put back; the check of incidents' references waits for the commit, when the ids exist again.
    """
    if op.get_bind().dialect.name != "sqlite":
        with op.batch_alter_table('reports') as batch:
            change(batch)
        return
    op.execute("PRAGMA defer_foreign_keys = ON")
    for table in _CASCADING_CHILDREN:
        op.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM {table}")
    with op.batch_alter_table('reports', recreate='always') as batch:
        change(batch)
    for table in _CASCADING_CHILDREN:
        op.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM kept_{table}")
        op.execute(f"DROP TABLE kept_{table}")
