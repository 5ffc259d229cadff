"""Downloading many reports at once: one ZIP of the PDFs, or one merged PDF.

A bundle is built in memory and handed to the browser in one message, so it has a cap (a
number of reports and a total size, see settings). Every report in it is checked against the
principal's scope first (one foreign id refuses the whole bundle) and audited one by one.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pypdf import PdfWriter

from db.blob_store import BlobStore
from db.engine import Database
from db.models import REPORT_TYPES, Report
from services import audit, clock, settings
from services.errors import InvalidInput
from services.insight import portal_activity
from services.principals import Principal
from services.reports.access import Purpose, load_many, mark_read, pdf_file_name, purpose_details
from services.transaction import transaction
from services.wording import size

BundleFormat = Literal["zip", "pdf"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Bundle:
    file_name: str
    mime_type: str
    data: bytes
    report_count: int


def check_size(report_count: int, total_bytes: int) -> None:
    """Refuse a bundle past the cap with a message that says what to do instead."""
    limits = settings.current()
    if report_count == 0:
        raise InvalidInput("Select at least one report to download.")
    if report_count > limits.bulk_download_reports:
        raise InvalidInput(
            f"One download holds at most {limits.bulk_download_reports:,} reports; "
            f"{report_count:,} are selected. Narrow the search or download in parts.")
    if total_bytes > limits.bulk_download_bytes:
        raise InvalidInput(
            f"One download holds at most {size(limits.bulk_download_bytes)}; "
            f"the selected reports come to {size(total_bytes)}. "
            "Select fewer reports or download in parts.")


def build(db: Database, principal: Principal, report_ids: list[int], *, bundle_format: BundleFormat,
          blob_store: BlobStore, staff_purpose: Purpose | None = None,
          progress: Progress | None = None) -> Bundle:
    """Check scope and cap, read each PDF, and pack them; every report is audited."""
    with transaction(db, write=False) as session:
        reports = load_many(session, principal, report_ids)
        details = purpose_details(principal, staff_purpose)
        check_size(len(reports), sum(report.file_size for report in reports))
        entries = [(report.id, report.file_sha256,
                    pdf_file_name(report.report_type, report.service_date, report.id),
                    _outline_title(report)) for report in reports]

    total = len(entries)
    if bundle_format == "zip":
        data = _zip(entries, blob_store, progress)
        mime, extension = "application/zip", "zip"
    elif bundle_format == "pdf":
        data = _merged(entries, blob_store, progress)
        mime, extension = "application/pdf", "pdf"
    else:
        raise InvalidInput("Choose ZIP or merged PDF.")

    now = clock.now()
    with transaction(db) as session:
        # Re-checked in the writing transaction: a report removed from view while the bundle
        # was being packed is refused rather than handed out.
        load_many(session, principal, report_ids)
        mark_read(session, principal, [entry[0] for entry in entries])
        portal_activity.record_access(session, principal, [entry[0] for entry in entries],
                                      download=True)
        for report_id, *_ in entries:
            audit.record(session, action="report.downloaded", actor_user_id=principal.user_id,
                         actor_email=principal.email, target_type="report", target_id=report_id,
                         details={**details, "bundle": bundle_format, "bundle_size": total}, now=now)
    # Named by the person's own clock: the file sits beside others they saved that day.
    local = now.astimezone(principal.zone)
    return Bundle(file_name=f"reports_{local:%Y-%m-%d_%H%M%S}_{total}.{extension}", mime_type=mime,
                  data=data, report_count=total)


def _zip(entries, blob_store: BlobStore, progress: Progress | None) -> bytes:
    out = io.BytesIO()
    # Stored, not deflated: PDFs are already compressed, and deflating costs 25x the time for ~3%.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, (_, sha256, name, _) in enumerate(entries, start=1):
            archive.writestr(name, blob_store.get(sha256))
            if progress:
                progress(done, len(entries))
    return out.getvalue()


def _merged(entries, blob_store: BlobStore, progress: Progress | None) -> bytes:
    writer = PdfWriter()
    for done, (_, sha256, _, title) in enumerate(entries, start=1):
        # Each report starts with a bookmark naming its type, date and id (no patient name).
        writer.append(io.BytesIO(blob_store.get(sha256)), outline_item=title)
        if progress:
            progress(done, len(entries))
    out = io.BytesIO()
    writer.write(out)
    writer.close()
    return out.getvalue()


def _outline_title(report: Report) -> str:
    return f"{REPORT_TYPES[report.report_type]}, {report.service_date:%Y-%m-%d}, report {report.id}"
