"""An employer finds reports by type and date, downloads two as a ZIP, and opens one."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import Report
from services.reports.access import pdf_file_name
from tests.e2e.conftest import click_grid_row, employer_reports, first_with_preview, grid_box, sign_in

pytestmark = pytest.mark.browser



def _sign_in_to_reports(page: Page, url: str) -> None:
    sign_in(page, url, "employer@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()


def _tick_rows(page: Page, indexes: tuple[int, ...]) -> None:
    box = grid_box(page)
    for ticked, index in enumerate(indexes, start=1):
        # The grid is a canvas: its row checkboxes are reached by position. Each tick reruns the
        # results, so wait until the screen counts it before the next one.
        click_grid_row(page, index, box)
        expect(page.get_by_role("button", name=f"Download {ticked} report", exact=False)).to_be_visible()


def test_employer_searches_by_type_and_date_and_downloads_two_as_zip(portal, context, tmp_path):
    visible = employer_reports(portal["database_url"])
    report_type, _ = Counter(row.report_type for row in visible).most_common(1)[0]
    wanted = [row for row in visible if row.report_type == report_type]
    assert len(wanted) >= 2, "the demo data gives the employer two reports of one type"
    first_day = min(row.posted_at for row in wanted).date()
    last_day = max(row.posted_at for row in wanted).date()

    page = context.new_page()
    _sign_in_to_reports(page, portal["url"])
    page.get_by_test_id("stMultiSelect").first.click()
    page.keyboard.type(next(row.type_label for row in wanted))
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("spinbutton", name="year, Posted between start date").click()
    page.keyboard.type(first_day.strftime("%Y%m%d"))
    page.get_by_role("spinbutton", name="year, Posted between end date").click()
    page.keyboard.type(last_day.strftime("%Y%m%d"))
    page.get_by_role("button", name="Search", exact=True).first.click()
    expect(page.get_by_text(re.compile(rf"^{len(wanted)} results · showing"))).to_be_visible()

    _tick_rows(page, (0, 1))
    page.get_by_role("button", name="Download 2 reports", exact=True).click()
    save = page.get_by_role("link", name="Save reports_")
    expect(save).to_be_visible()
    with page.expect_download() as download:
        save.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))

    expected = wanted[:2]  # newest first, as the grid shows them
    assert archive.namelist() == [pdf_file_name(r.report_type, r.service_date, r.id) for r in expected]
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            stored = {r.id: r for r in session.scalars(select(Report).where(
                Report.id.in_([r.id for r in expected])))}
    finally:
        db.dispose()
    blobs = BlobStore(Path(portal["database_url"].removeprefix("sqlite:///")).parent / "blobs")
    for row, name in zip(expected, archive.namelist(), strict=True):
        data = archive.read(name)
        assert data == blobs.get(stored[row.id].file_sha256)
        assert len(PdfReader(io.BytesIO(data)).pages) == stored[row.id].page_count
        assert row.patient_name.split(",")[0] not in name


def test_employer_opens_a_report_sees_its_first_page_and_downloads_it(portal, context):
    reports = employer_reports(portal["database_url"])
    place = first_with_preview(portal["database_url"], reports)
    newest = reports[place]
    page = context.new_page()
    _sign_in_to_reports(page, portal["url"])
    _tick_rows(page, (place,))
    page.get_by_role("button", name="Open report").click()
    expect(page.get_by_role("heading", name=f"{newest.type_label}, {newest.service_date:%Y-%m-%d}")).to_be_visible()
    expect(page.get_by_test_id("stImage")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    assert download.value.suggested_filename == pdf_file_name(newest.report_type, newest.service_date,
                                                              newest.id)
    assert PdfReader(download.value.path()).pages
