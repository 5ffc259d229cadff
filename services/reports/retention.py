"""Retention: results stay in the portal for 60 days, then archive (results-portal FAQ).

`python -m commands.archive` archives every available report delivered more than 60 days
ago. It changes only what is due, in small batches, so it is safe to run every hour and to run
twice at once; a report re-delivered by staff counts its 60 days from the re-delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from db.engine import Database
from db.models import Report
from services import audit, clock
from services.insight import report_volume
from services.statuses import ReportStatus
from services.transaction import transaction

RETENTION_PERIOD = timedelta(days=60)
_BATCH = 2000


def archive_expired(db: Database, *, now: datetime | None = None) -> int:
    """Archive what has been available longer than the retention period; returns how many."""
    now = now or clock.now()
    cutoff = now - RETENTION_PERIOD
    archived = 0
    while True:
        with transaction(db) as session:
            due = session.scalars(select(Report.id).where(
                Report.status == ReportStatus.AVAILABLE, Report.delivered_at < cutoff).limit(_BATCH)).all()
            # The status test is repeated in the UPDATE so a run racing another, or a
            # re-delivery, never archives a report that is no longer due.
            with report_volume.recount(session, due):
                changed = session.execute(
                    update(Report).where(Report.id.in_(due), Report.status == ReportStatus.AVAILABLE,
                                         Report.delivered_at < cutoff)
                    .values(status=ReportStatus.ARCHIVED).execution_options(synchronize_session=False)
                ).rowcount
            if changed:
                audit.record(session, action="reports.archived", now=now,
                             details={"count": changed, "delivered_before": cutoff.isoformat()})
        archived += changed
        if changed < _BATCH:
            return archived
