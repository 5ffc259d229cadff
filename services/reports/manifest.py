"""Posting a folder of PDFs described by a CSV manifest (a clinic's batch or a system feed).

    make ingest FOLDER=... AS=feed@clinic.example     (commands/ingest.py)

The manifest has a `file` column (a PDF in FOLDER) and the columns in report_ingest.FIELDS.
Every row gets a line saying posted, duplicate or rejected with the reason; the command exits
with status 1 when any row was rejected, so a scheduler notices.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from services import settings
from services.errors import InvalidInput
from services.reports.ingest import FIELDS, IngestOutcome, ReportUpload
from services.reports.pdf_check import too_large

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
