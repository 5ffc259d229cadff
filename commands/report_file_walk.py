"""What `make encrypt-blobs` and `make rotate-blob-key` share: walk the report files with one
store operation, print progress and a summary, and exit 1 listing the files it could not do."""

from __future__ import annotations

import sys
from collections.abc import Callable

from db.migrate import open_database
from services.reports import report_files

Walk = Callable[..., report_files.Walked]


def run(walk: Walk, *, doing: str, done: str, summary: Callable[[report_files.Walked], str],
        failed: str) -> report_files.Walked:
    """`doing` opens the first line ("Sealing clear report files"), `done` names a changed
    file in the progress lines ("sealed"), `failed` introduces the list of files left as they
    were."""
    store = report_files.store()
    print(f"{doing} in {store.root} with {store.keyring.describe()}...")
    walked = walk(open_database(), store, progress=lambda w: print(
        f"  {w.changed + w.already:,} files looked at, {w.changed:,} {done}", flush=True))
    print(summary(walked))
    if walked.failed:
        print(f"{len(walked.failed)} {failed}:", file=sys.stderr)
        for line in walked.failed[:50]:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1)
    return walked
