"""The sweep removes only old files that no report names."""

from __future__ import annotations

import os
import time

from sqlalchemy import select

from db.blob_store import BlobStore
from db.models import AuditEvent, ReportPreview
from services.demo import seed
from services.reports import blob_sweep
from tests.conftest import START


def _age(store: BlobStore, sha256: str, hours: float, suffix: str = ".pdf") -> None:
    path = store._path(sha256, suffix)
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_sweep_removes_old_unreferenced_files_only(db, tmp_path, fake_clock):
    store = BlobStore(tmp_path / "blobs")
    seed.seed(db, blob_store=store, reports=3, patients=2, now=START)
    kept = [p.stem for p in store.root.glob("*/*.pdf")]
    assert all(store.get_preview(sha256) for sha256 in kept)  # the seed drew them
    orphan_old = store.put(b"%PDF-1.7 orphan left by a crash")
    store.put_preview(orphan_old, b"\x89PNG picture of the orphan")
    lone_picture = "cd" * 32   # a picture whose PDF is already gone
    store.put_preview(lone_picture, b"\x89PNG")
    orphan_new = store.put(b"%PDF-1.7 an upload between its two steps")
    for sha256 in [*kept, orphan_old]:
        _age(store, sha256, 2)
    for sha256 in [*kept, orphan_old, lone_picture]:
        _age(store, sha256, 2, suffix=".png")
    leftover = store.root / "ab" / ".incoming-x"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"half")
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))

    assert blob_sweep.sweep(db, store) == 1

    assert not store.exists(orphan_old) and not leftover.exists()
    assert store.exists(orphan_new)  # younger than the grace period
    assert all(store.exists(sha256) for sha256 in kept)
    # Pictures go with their PDFs: kept while a report names the PDF, removed otherwise.
    assert all(store.get_preview(sha256) for sha256 in kept)
    assert store.get_preview(orphan_old) is None and store.get_preview(lone_picture) is None
    with db.transaction(write=False) as session:
        swept = session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "blobs.swept")).all()
        previews = set(session.scalars(select(ReportPreview.file_sha256)))
    assert swept == [{"removed": 1, "previews_removed": 2, "temporary_files": 1}]
    assert previews == set(kept)
    assert blob_sweep.sweep(db, store) == 0
