"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.models import Base

# Kept in step by triggers on SQLite (patient-name search), not described by the models.
_NOT_MODELLED = {"patient_name_search", "alembic_version"}


def _include(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and (name in _NOT_MODELLED or name.startswith("patient_name_search_")):
        return False
    # The PostgreSQL GIN index over the name tsvector is an expression index (migration 0002).
    return not (type_ == "index" and name == "ix_patients_name_search")


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": _include, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_0008_keeps_routing_reads_and_incidents_when_sqlite_rebuilds_reports(tmp_path):
    """Files shared between reports need the table rebuilt on SQLite; nothing naming a report is lost."""
    from sqlalchemy import text

    from db.engine import Database
    from db.migrate import upgrade

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0007")
    sha = "ab" * 32
    with db.engine.begin() as connection:
        for statement in (
            "INSERT INTO accounts (id, name, kind, created_at) VALUES (1, 'Acme', 'employer', '2026-01-01')",
            "INSERT INTO provider_groups (id, name, npi, created_at) VALUES (1, 'Group', '1234567893', '2026-01-01')",
            "INSERT INTO providers (id, group_id, name, npi, address, city, state)"
            " VALUES (1, 1, 'Clinic', '1234567893', '1 Main St', 'Austin', 'TX')",
            "INSERT INTO patients (id, first_name, last_name, date_of_birth, employee_id, employer_account_id)"
            " VALUES (1, 'Ana', 'Diaz', '1980-01-01', 'E1', 1)",
            "INSERT INTO users (id, email, name, status, failed_attempts, notify_new_results, phone, created_at)"
            " VALUES (1, 'a@example.test', 'A', 'active', 0, 0, '', '2026-01-01')",
            "INSERT INTO reports (id, report_type, patient_id, provider_id, service_date, posted_at, delivered_at,"
            " status, injury, state, file_sha256, file_size, page_count)"
            f" VALUES (7, 'ccf', 1, 1, '2026-01-01', '2026-01-02', '2026-01-02', 'available', 0, 'TX', '{sha}', 10, 1)",
            "INSERT INTO report_recipients (report_id, account_id, routed_at) VALUES (7, 1, '2026-01-02')",
            "INSERT INTO report_reads (user_id, report_id, first_opened_at) VALUES (1, 7, '2026-01-03')",
        ):
            connection.execute(text(statement))
    upgrade(db)
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM report_recipients WHERE report_id = 7")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM report_reads WHERE report_id = 7")).scalar() == 1
        # A second report of the same file (another clinic's patient) is now allowed.
        connection.execute(text(
            "INSERT INTO reports (id, report_type, patient_id, provider_id, service_date, posted_at, delivered_at,"
            " status, injury, state, file_sha256, file_size, page_count)"
            f" VALUES (8, 'ccf', 1, 1, '2026-01-01', '2026-01-02', '2026-01-02', 'available', 0, 'TX', '{sha}', 10, 1)"))
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    db.dispose()
