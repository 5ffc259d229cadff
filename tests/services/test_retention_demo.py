"""With the demo data: employer@demo.test loses an archived report and gets it back on re-delivery."""

from __future__ import annotations

from datetime import timedelta

from db.blob_store import BlobStore
from services.demo import seed
from services.reports import access, retention, search
from tests.conftest import START, principal_of


def _rows(db, principal) -> list[search.ReportRow]:
    found, after = [], None
    while True:
        page = search.search(db, principal, search.ReportFilter(), after=after,
                                    with_count=False)
        found += page.rows
        if page.next_cursor is None:
            return found
        after = page.next_cursor


def _ids(db, principal) -> set[int]:
    return {row.id for row in _rows(db, principal)}


def test_archived_report_leaves_the_employers_search_and_returns_on_redelivery(db, tmp_path, fake_clock):
    seed.seed(db, blob_store=BlobStore(tmp_path / "blobs"), reports=80, patients=30, now=START,
                   previews=False)
    employer, support = principal_of(db, "employer@demo.test"), principal_of(db, "support@demo.test")
    visible = _rows(db, employer)
    oldest = visible[-1]  # newest first
    before = {row.id for row in visible}

    # Once the oldest visible report is more than 60 days old, the job archives it.
    fake_clock.current = oldest.posted_at + retention.RETENTION_PERIOD + timedelta(minutes=1)
    archived = retention.archive_expired(db)
    assert archived >= 1
    after_job = _ids(db, employer)
    assert oldest.id in before and oldest.id not in after_job

    access.redeliver(db, support, oldest.id)
    assert oldest.id in _ids(db, employer)
    assert retention.archive_expired(db) == 0  # re-delivered: 60 more days from now
