"""Reports described by a CSV manifest: a folder of PDFs (a clinic's batch or a system feed) or
the PDFs uploaded beside it on the Upload reports screen.

    make ingest FOLDER=... AS=feed@clinic.example     (commands/ingest.py)

The manifest has a `file` column (a PDF in FOLDER, or an uploaded file's name) and the columns
in ingest.FIELDS, at most MAX_ROWS rows. Every row becomes an upload or, when its file cannot be
used, a rejection with the reason; posting them gives each row its line (posted, duplicate or
rejected). The command exits with status 1 when any row was rejected, so a scheduler notices.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from services import settings
from services.errors import InvalidInput
from services.reports.ingest import FIELDS, IngestOutcome, ReportUpload
from services.reports.pdf_check import too_large

MAX_ROWS = 10_000
NOT_UPLOADED = "No uploaded file has this name."


def _rows(text: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(label, file name, details) per row; refused without every column or over MAX_ROWS."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = [name for name in ("file", *FIELDS) if name not in columns]
    if missing:
        raise InvalidInput(f"The manifest has no column {', '.join(missing)}.")
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if number - 1 > MAX_ROWS:
            raise InvalidInput(f"A manifest holds at most {MAX_ROWS:,} rows.")
        name = (row.get("file") or "").strip()
        yield f"row {number} ({name or 'no file'})", name, {key: row.get(key) or "" for key in FIELDS}


def read_manifest(text: str, folder: Path) -> Iterator[ReportUpload | IngestOutcome]:
    """Uploads for the manifest's rows; a row whose file cannot be used is an outcome already."""
    root = folder.resolve()
    for label, name, details in _rows(text):
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
        yield ReportUpload(label, path.read_bytes(), details)


def read_uploaded_manifest(manifest: bytes,
                           files: Mapping[str, bytes]) -> list[ReportUpload | IngestOutcome]:
    """The same for a manifest uploaded with its PDFs (by file name), read whole before posting.

    A manifest over the row limit or without a column is refused before anything is posted.
    """
    text = manifest.decode("utf-8-sig", errors="replace")
    return [ReportUpload(label, files[name], details) if name in files
            else IngestOutcome(label, "rejected", reason=NOT_UPLOADED)
            for label, name, details in _rows(text)]
