"""Posting a folder of PDFs described by a CSV manifest (a clinic's batch or a system feed).

    python -m services.report_manifest FOLDER --as feed@clinic.example [--manifest manifest.csv]

The manifest has a `file` column (a PDF in FOLDER) and the columns in report_ingest.FIELDS.
Every row gets a line saying posted, duplicate or rejected with the reason; the command exits
with status 1 when any row was rejected, so a scheduler notices.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from db.blob_store import BlobStore
from db.models import User
from services import principals, settings
from services.auth import normalise_email
from services.errors import InvalidInput, PermissionDenied
from services.pdf_check import too_large
from services.report_ingest import FIELDS, IngestOutcome, ReportUpload, ingest

MAX_ROWS = 10_000


def read_manifest(text: str, folder: Path) -> Iterator[ReportUpload | IngestOutcome]:
    """Uploads for the manifest's rows; a row whose file cannot be used is an outcome already."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = [name for name in ("file", *FIELDS) if name not in columns]
    if missing:
        raise InvalidInput(f"The manifest has no column {', '.join(missing)}.")
    root = folder.resolve()
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if number - 1 > MAX_ROWS:
            raise InvalidInput(f"A manifest holds at most {MAX_ROWS:,} rows.")
        name = (row.get("file") or "").strip()
        label = f"row {number} ({name or 'no file'})"
        path = (root / name).resolve()
        if not name or root not in path.parents:
            yield IngestOutcome(label, "rejected", reason="The file must be a PDF inside the folder.")
            continue
        if not path.is_file():
            yield IngestOutcome(label, "rejected", reason="The file is not in the folder.")
            continue
        if path.stat().st_size > settings.current().max_report_bytes:
            # Not read into memory at all; the size check in ingest words the message.
            yield IngestOutcome(label, "rejected",
                                reason=too_large(settings.current().max_report_bytes))
            continue
        yield ReportUpload(label, path.read_bytes(), {key: row.get(key) or "" for key in FIELDS})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.report_manifest",
                                     description="Post a folder of report PDFs from a CSV manifest.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--manifest", default="manifest.csv",
                        help="the CSV file, relative to the folder (default manifest.csv)")
    parser.add_argument("--as", dest="email", required=True,
                        help="the portal user posting the batch (needs the upload permission)")
    args = parser.parse_args(argv)

    from services.startup import open_database

    db = open_database()
    with db.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == normalise_email(args.email),
                                                 User.status == "active"))
        if user is None:
            print(f"No active user {args.email}.", file=sys.stderr)
            return 2
        principal = principals.load(session, user)
    try:
        rows = list(read_manifest((args.folder / args.manifest).read_text(encoding="utf-8-sig"),
                                  args.folder))
    except (OSError, InvalidInput, csv.Error) as problem:
        print(f"Cannot read the manifest: {problem}", file=sys.stderr)
        return 2
    uploads = [row for row in rows if isinstance(row, ReportUpload)]
    try:
        posted = iter(ingest(db, principal, uploads,
                             blob_store=BlobStore(settings.current().blob_dir)))
    except PermissionDenied:
        print(f"{args.email} may not post reports.", file=sys.stderr)
        return 2
    outcomes = [next(posted) if isinstance(row, ReportUpload) else row for row in rows]
    for outcome in outcomes:
        report = f" report {outcome.report_id}" if outcome.report_id else ""
        reason = f": {outcome.reason}" if outcome.reason and outcome.result == "rejected" else ""
        if outcome.preview_problem:
            reason = f", but no preview: {outcome.preview_problem}"
        print(f"{outcome.label}: {outcome.result}{report}{reason}")
    rejected = sum(outcome.result == "rejected" for outcome in outcomes)
    print(f"{len(outcomes) - rejected} of {len(outcomes)} rows posted or already present; "
          f"{rejected} rejected.")
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
