"""Packing many reports into one download: a ZIP of the PDFs, or one merged PDF.

The limits (a number of reports and a total size, see settings) are checked when a download
link is made (services/reports/bundle_links.py, which also checks scope and audits). Packing
here never holds a whole ZIP: each PDF is read from the blob store a piece at a time and the
archive comes out in pieces of about a megabyte. A merged PDF cannot be written that way
(pypdf builds the whole document before writing it), so it is written to a temporary file that
spills to disk, then read back in pieces; pypdf still holds the merged pages while merging.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fpdf import FPDF
from pypdf import PdfWriter

from db.blob_store import BlobStore
from services import settings
from services.errors import InvalidInput
from services.wording import size

BundleFormat = Literal["zip", "pdf"]
FORMATS: dict[str, tuple[str, str]] = {"zip": ("application/zip", "zip"),
                                       "pdf": ("application/pdf", "pdf")}
CHUNK_BYTES = 1024 * 1024
# A merged PDF stays in memory up to this size while it is written, then moves to disk.
_SPOOL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One report as it goes into a bundle (never the patient's name)."""

    report_id: int
    sha256: str
    file_name: str
    outline_title: str


def check_format(bundle_format: str) -> None:
    if bundle_format not in FORMATS:
        raise InvalidInput("Choose ZIP or merged PDF.")


def check_size(report_count: int, total_bytes: int, bundle_format: str = "zip") -> None:
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
    if bundle_format == "pdf" and total_bytes > limits.merged_pdf_bytes:
        raise InvalidInput(
            f"One merged PDF holds at most {size(limits.merged_pdf_bytes)}; the selected reports "
            f"come to {size(total_bytes)}. Choose ZIP of PDFs, or select fewer reports.")


def file_name(bundle_format: str, report_count: int, local_time: datetime) -> str:
    """Named by the person's own clock, as every time on their screens is."""
    return f"reports_{local_time:%Y-%m-%d_%H%M%S}_{report_count}.{FORMATS[bundle_format][1]}"


class _Sink:
    """The ZIP's output: a write-only stream (zipfile then writes data descriptors instead of
    seeking back) whose bytes are taken out in pieces as soon as there are enough."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._held = 0
        self.written = 0

    def write(self, data) -> int:
        # A read-only view (a piece of a decrypted report) is kept as it is: join copies it once.
        readonly = isinstance(data, bytes) or (isinstance(data, memoryview) and data.readonly)
        piece = data if readonly else bytes(data)
        self._parts.append(piece)
        self._held += len(piece)
        self.written += len(piece)
        return len(piece)

    def flush(self) -> None:
        pass

    def take(self, *, at_least: int = CHUNK_BYTES) -> bytes | None:
        if not self._held or self._held < at_least:
            return None
        chunk = b"".join(self._parts)
        self._parts.clear()
        self._held = 0
        return chunk


class ZipStream:
    """A ZIP written entry by entry; each method yields the pieces that are ready."""

    def __init__(self, packed_at: datetime) -> None:
        self._sink = _Sink()
        # Stored, not deflated: PDFs are already compressed, and deflating costs 25x the time for ~3%.
        self._archive = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_STORED)
        self._date_time = packed_at.timetuple()[:6]

    @property
    def written(self) -> int:
        """Bytes of the archive produced so far (handed out or about to be)."""
        return self._sink.written

    def add(self, name: str, pieces: Iterator[bytes]) -> Iterator[bytes]:
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_STORED
        with self._archive.open(info, "w") as entry:
            for piece in pieces:
                entry.write(piece)
                if (chunk := self._sink.take()) is not None:
                    yield chunk

    def add_text(self, name: str, text: str) -> Iterator[bytes]:
        yield from self.add(name, iter([text.encode("utf-8")]))

    def flush(self) -> Iterator[bytes]:
        """Whatever is held, however small (the end of a batch)."""
        if (chunk := self._sink.take(at_least=1)) is not None:
            yield chunk

    def close(self) -> Iterator[bytes]:
        """The central directory: the end of the archive."""
        self._archive.close()
        yield from self.flush()


def pieces_of(blob_store: BlobStore, sha256: str) -> Iterator[bytes]:
    """A stored PDF in pieces of about a megabyte.

    The file is read now, and decrypted whole (none is larger than the upload limit), not at the
    first piece: one failing its check raises FileUnreadable before anything of it enters an
    archive. The pieces are views of it, not copies.
    """
    view = memoryview(blob_store.get(sha256))
    return (view[at:at + CHUNK_BYTES] for at in range(0, len(view), CHUNK_BYTES))


class MergedPdf:
    """One PDF of many, each report starting with a bookmark (type, date and id)."""

    def __init__(self) -> None:
        self._writer = PdfWriter()

    def add(self, entry: Entry, blob_store: BlobStore) -> None:
        self._writer.append(io.BytesIO(blob_store.get(entry.sha256)),
                            outline_item=entry.outline_title)

    def add_page(self, title: str, text: str) -> None:
        """A plain page of text at the end (the reports left out, with why)."""
        page = FPDF()
        page.set_font("Helvetica", size=11)
        page.add_page()
        page.multi_cell(0, 6, text=text.encode("latin-1", "replace").decode("latin-1"))
        self._writer.append(io.BytesIO(bytes(page.output())), outline_item=title)

    def pieces(self) -> Iterator[bytes]:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            self._writer.write(spool)
            self._writer.close()
            spool.seek(0)
            while piece := spool.read(CHUNK_BYTES):
                yield piece
