"""Post a folder of report PDFs described by a CSV manifest (a clinic's batch or a system feed).

    python -m commands.ingest FOLDER --as feed@clinic.example [--manifest manifest.csv]
    make ingest FOLDER=... AS=feed@clinic.example

Every row gets a line saying posted, duplicate or rejected with the reason; the exit status is 1
when any row was rejected, so a scheduler notices, and 2 when nothing could be tried.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from db.migrate import open_database
from services.errors import InvalidInput, PermissionDenied
from services.identity.users import acting_as
from services.reports import report_files
from services.reports.ingest import ReportUpload, ingest
from services.reports.manifest import read_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.ingest",
                                     description="Post a folder of report PDFs from a CSV manifest.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--manifest", default="manifest.csv",
                        help="the CSV file, relative to the folder (default manifest.csv)")
    parser.add_argument("--as", dest="email", required=True,
                        help="the portal user posting the batch (needs the upload permission)")
    args = parser.parse_args(argv)

    db = open_database()
    principal = acting_as(db, email=args.email)
    if principal is None:
        print(f"No active user {args.email}.", file=sys.stderr)
        return 2
    try:
        rows = list(read_manifest((args.folder / args.manifest).read_text(encoding="utf-8-sig"),
                                  args.folder))
    except (OSError, InvalidInput, csv.Error) as problem:
        print(f"Cannot read the manifest: {problem}", file=sys.stderr)
        return 2
    uploads = [row for row in rows if isinstance(row, ReportUpload)]
    try:
        posted = iter(ingest(db, principal, uploads,
                             blob_store=report_files.store()))
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
