"""Removing PDFs that no report names: what a crash between storing a file and its row leaves.

A PDF's first-page picture (`<sha>.png` beside it) goes with it: kept while a report names
the PDF, removed with its `report_previews` row when none does.

    python -m commands.sweep_blobs        # schedule daily

An upload writes its PDF first and its report row second, and removes the PDF again if the row
fails; only a process that dies between the two leaves a file behind. Files younger than the
grace period are left alone, since an upload may be between its two steps right now.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import delete, exists, select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import Report, ReportPreview
from services import audit
from services.transaction import transaction

GRACE = timedelta(hours=1)
_CHUNK = 500


def sweep(db: Database, blob_store: BlobStore, *, grace: timedelta = GRACE) -> int:
    """Delete unreferenced blobs (and abandoned temporary files) older than `grace`."""
    cutoff = time.time() - grace.total_seconds()
    old = [path for path in blob_store.root.glob("*/*")
           if path.is_file() and path.stat().st_mtime < cutoff]
    leftovers = [path for path in old if path.name.startswith(".incoming-")]
    blobs = {path.stem: path for path in old if path.suffix == ".pdf" and len(path.stem) == 64}
    previews = {path.stem for path in old if path.suffix == ".png" and len(path.stem) == 64}
    referenced: set[str] = set()
    names = sorted(set(blobs) | previews)
    with transaction(db, write=False) as session:
        for start in range(0, len(names), _CHUNK):
            referenced |= set(session.scalars(select(Report.file_sha256).where(
                Report.file_sha256.in_(names[start:start + _CHUNK]))))
    removed = 0
    for sha256 in blobs:
        if sha256 not in referenced:
            blob_store.delete(sha256)
            removed += 1
    unnamed_previews = sorted(previews - referenced)
    for sha256 in unnamed_previews:
        blob_store.delete_preview(sha256)
    for path in leftovers:
        path.unlink(missing_ok=True)
    if removed or leftovers or unnamed_previews:
        gone = sorted((set(blobs) | previews) - referenced)
        with transaction(db) as session:
            for start in range(0, len(gone), _CHUNK):
                # A file posted again after this run's look-up has a report by now: keep its row.
                session.execute(delete(ReportPreview).where(
                    ReportPreview.file_sha256.in_(gone[start:start + _CHUNK]),
                    ~exists().where(Report.file_sha256 == ReportPreview.file_sha256)))
            audit.record(session, action="blobs.swept",
                         details={"removed": removed, "previews_removed": len(unnamed_previews),
                                  "temporary_files": len(leftovers)})
    return removed
