"""check_pdf: each kind of bad upload gets its own reason, and hostile files are cut off in time."""

from __future__ import annotations

import time

from services.reports.pdf_check import (
    DAMAGED,
    EMPTY,
    ENCRYPTED,
    NO_PAGES,
    NOT_PDF,
    TOO_COMPLEX,
    PdfCheck,
    check_pdf,
)
from tests.fixtures import bad_pdfs

MIB = 1024 * 1024
LIMITS = {"max_bytes": MIB, "max_pages": 200, "timeout_seconds": 10.0, "memory_mb": 512}


def check(data: bytes, **overrides: float) -> PdfCheck:
    return check_pdf(data, **{**LIMITS, **overrides})


def assert_rejected(result: PdfCheck, reason: str) -> None:
    assert not result.ok
    assert result.page_count is None
    assert result.reason is not None and reason in result.reason


def test_a_valid_pdf_is_accepted_with_its_page_count():
    for pages in (1, 3):
        result = check(bad_pdfs.valid_pdf(pages))
        assert result == PdfCheck(page_count=pages, reason=None)
        assert result.ok


def test_an_empty_file_is_rejected():
    assert_rejected(check(b""), EMPTY)


def test_a_file_over_the_size_limit_is_rejected_naming_the_limit():
    assert_rejected(check(bad_pdfs.oversized_pdf(MIB)), "larger than the 1 MB limit")


def test_a_text_file_renamed_to_pdf_is_rejected():
    assert_rejected(check(bad_pdfs.text_renamed_pdf()), NOT_PDF)


def test_a_truncated_pdf_is_rejected_as_damaged():
    assert_rejected(check(bad_pdfs.truncated_pdf()), DAMAGED)


def test_an_encrypted_pdf_is_rejected():
    result = check(bad_pdfs.encrypted_pdf())
    assert_rejected(result, ENCRYPTED)
    assert "password-protected" in result.reason


def test_a_pdf_without_pages_is_rejected():
    assert_rejected(check(bad_pdfs.no_pages_pdf()), NO_PAGES)


def test_a_pdf_over_the_page_limit_is_rejected_naming_the_limit():
    assert_rejected(check(bad_pdfs.valid_pdf(2), max_pages=1), "has 2 pages; the limit is 1")


def test_a_pdf_that_keeps_the_parser_busy_is_cut_off_at_the_time_limit():
    started = time.monotonic()
    result = check(bad_pdfs.slow_to_parse_pdf(), timeout_seconds=2)
    assert time.monotonic() - started < 10
    assert_rejected(result, "took longer than 2 seconds")


def test_a_pdf_that_needs_gigabytes_is_stopped_by_the_memory_limit():
    # The wall-clock limit is generous, so only the memory limit can end this one in time.
    started = time.monotonic()
    result = check(bad_pdfs.memory_hungry_pdf(), timeout_seconds=60, memory_mb=256)
    assert time.monotonic() - started < 30
    assert_rejected(result, TOO_COMPLEX)


def test_reasons_never_quote_the_file():
    data = b"%PDF-1.7\nPATIENT-SECRET-4711 " * 50
    result = check(data)
    assert_rejected(result, DAMAGED)
    assert "4711" not in result.reason and "PATIENT" not in result.reason
