"""First-page pictures of stored report files: drawn once, kept beside the PDF, listed in a table.

    python -m commands.previews          # draw what has no picture yet (make previews)
    python -m commands.previews --demo   # the demo's own files, many per child (first start)

An upload draws its picture at once (services/reports/ingest.py); this command draws the
pictures of files posted before pictures were stored, and of any a crash left undrawn. Each
file is drawn in a limited child process (services/reports/_pdf_preview.py), never in the caller.

Several copies may run at once, on several machines: a file is claimed by inserting its
`report_previews` row as "drawing" (an insert that skips rows already there, so exactly one
claimer gets each file, on SQLite and PostgreSQL alike), and only the claimer's row becomes
"ready" or "failed". A claim older than STALE_CLAIM (its process died) is taken over by a
conditional update. Drawing one file twice would be harmless anyway: the picture is written
atomically under the PDF's hash and the same bytes give the same picture.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db import dialect
from db.blob_store import BlobStore, FileUnreadable
from db.engine import Database
from db.models import Report, ReportPreview
from services import clock, settings
from services.reports import _pdf_preview as pdf_preview
from services.statuses import PreviewStatus
from services.transaction import transaction

STALE_CLAIM = timedelta(minutes=15)
BATCH = 20
MISSING_FILE = "The PDF file is missing from the file store."
NOT_YET = "The preview has not been drawn yet."


@dataclass(frozen=True)
class PreviewState:
    """Whether a stored file has a picture: ready, failed (with the reason) or not yet."""

    status: str | None
    reason: str = ""

    @property
    def ready(self) -> bool:
        return self.status == PreviewStatus.READY


def limits(*, grayscale: bool = False) -> pdf_preview.Limits:
    """The drawing child's limits: the same time and memory the upload check may use."""
    current = settings.current()
    return pdf_preview.Limits(seconds=current.pdf_check_seconds,
                              memory_mb=current.pdf_check_memory_mb, grayscale=grayscale)


def state(session: Session, sha256: str) -> PreviewState:
    row = session.get(ReportPreview, sha256)
    if row is None:
        return PreviewState(None, NOT_YET)
    if row.status == PreviewStatus.DRAWING:
        return PreviewState(PreviewStatus.DRAWING, NOT_YET)
    return PreviewState(row.status, row.reason)


def keep(session: Session, blob_store: BlobStore, sha256: str,
         preview: pdf_preview.Preview) -> None:
    """Store a picture drawn at upload (or its failure) unless the file already has one."""
    if preview.ok:
        blob_store.put_preview(sha256, preview.png or b"")
    session.execute(dialect.insert_or_ignore(session, ReportPreview).values(
        file_sha256=sha256, status=PreviewStatus.READY if preview.ok else PreviewStatus.FAILED,
        reason=preview.reason[:300], updated_at=clock.now()))


def draw_missing(db: Database, blob_store: BlobStore, *, batch: int = BATCH, per_child: int = 1,
                 workers: int = 1, grayscale: bool = False,
                 most: int | None = None) -> Counter[str]:
    """Draw stored files without a picture, newest reports first; counts of "ready" and "failed".

    `most` stops after about that many files (whole batches); None draws all.
    """
    drawing_limits = limits(grayscale=grayscale)
    budget = [most if most is not None else -1]
    budget_lock = threading.Lock()

    def next_batch() -> list[str]:
        with budget_lock:
            if budget[0] == 0:
                return []
            claimed = _claim(db, batch if budget[0] < 0 else min(batch, budget[0]))
            if budget[0] > 0:
                budget[0] -= len(claimed)
            return claimed

    def work() -> Counter[str]:
        done: Counter[str] = Counter()
        while claimed := next_batch():
            done.update(_draw(db, blob_store, claimed, drawing_limits, per_child))
        return done

    if workers <= 1:
        return work()
    totals: Counter[str] = Counter()
    with ThreadPoolExecutor(workers, "previews") as pool:
        for done in [pool.submit(work) for _ in range(workers)]:
            totals.update(done.result())
    return totals


def _claim(db: Database, limit: int) -> list[str]:
    """Up to `limit` files nobody is drawing, now marked as drawn by this caller."""
    now = clock.now()
    with transaction(db) as session:
        # Newest first: those are the reports people open next. Reports sharing a file can
        # repeat a hash here; the insert below takes each once.
        waiting = list(dict.fromkeys(session.scalars(
            select(Report.file_sha256)
            .outerjoin(ReportPreview, ReportPreview.file_sha256 == Report.file_sha256)
            .where(ReportPreview.file_sha256.is_(None)).order_by(Report.id.desc())
            .limit(limit))))
        claimed: list[str] = []
        if waiting:
            claimed = list(session.scalars(
                dialect.insert_or_ignore(session, ReportPreview).values([
                    {"file_sha256": sha256, "status": PreviewStatus.DRAWING, "reason": "",
                     "updated_at": now}
                    for sha256 in waiting])
                .returning(ReportPreview.file_sha256)))
        if len(claimed) < limit:
            stale = ((ReportPreview.status == PreviewStatus.DRAWING)
                     & (ReportPreview.updated_at < now - STALE_CLAIM))
            abandoned = select(ReportPreview.file_sha256).where(stale).limit(limit - len(claimed))
            claimed += session.scalars(
                update(ReportPreview).where(ReportPreview.file_sha256.in_(abandoned), stale)
                .values(updated_at=now).returning(ReportPreview.file_sha256)).all()
    return claimed


def _draw(db: Database, blob_store: BlobStore, claimed: list[str],
          drawing_limits: pdf_preview.Limits, per_child: int) -> Counter[str]:
    files: dict[str, bytes] = {}
    outcomes: dict[str, pdf_preview.Preview] = {}
    for sha256 in claimed:
        try:
            files[sha256] = blob_store.get(sha256)
        except FileNotFoundError:
            outcomes[sha256] = pdf_preview.Preview(None, MISSING_FILE)
        except FileUnreadable:
            # Changed on disk, or sealed with a key not configured here: its claim is left to go
            # stale and be tried again (after a restore, or with the key), not marked failed.
            continue
    drawn = pdf_preview.render_many(list(files.values()), limits=drawing_limits,
                                    per_child=per_child)
    outcomes.update(zip(files, drawn, strict=True))
    for sha256, preview in outcomes.items():
        if preview.ok:
            blob_store.put_preview(sha256, preview.png or b"")
    now = clock.now()
    with transaction(db) as session:
        for sha256, preview in outcomes.items():
            # A claim taken over meanwhile gets the same outcome: the same bytes draw the same.
            session.execute(update(ReportPreview).where(
                ReportPreview.file_sha256 == sha256, ReportPreview.status == PreviewStatus.DRAWING)
                .values(status=PreviewStatus.READY if preview.ok else PreviewStatus.FAILED,
                        reason=preview.reason[:300], updated_at=now))
    return Counter(PreviewStatus.READY if preview.ok else PreviewStatus.FAILED
                   for preview in outcomes.values())
