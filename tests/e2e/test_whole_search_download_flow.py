"""Downloading a whole search, in Chromium, as employer@demo.test: 120 reports of one patient
span three pages; "Select all 120 results of this search" chooses them all, the choice holds
while the person turns the pages, and one download brings a ZIP of exactly those 120 PDFs,
byte for byte the stored files. Then ticks made on two pages add up and download together."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import Account, Patient, Provider, Report
from services.demo import seed
from tests.e2e.conftest import (
    GRID_ROW_HEIGHT,
    _start_portal,
    click_grid_row,
    grid_box,
    open_report_filters,
    settled,
    sign_in,
)
from tests.services.report_world import add_report

pytestmark = pytest.mark.browser

LAST_NAME = "Wholesearch"
REPORTS = 120


def _post_many(db: Database, blobs: Path) -> None:
    """120 reports of one patient, each its own PDF, routed to the demo employer's account."""
    store = BlobStore(blobs)
    with db.transaction() as session:
        employer = session.scalar(select(Account.id).where(Account.name == seed._EMPLOYERS[0]))
        provider = session.scalar(select(Provider.id).order_by(Provider.id).limit(1))
        patient = Patient(first_name="Ana", last_name=LAST_NAME, date_of_birth=date(1985, 3, 4),
                          employee_id="WS-120", employer_account_id=employer)
        session.add(patient)
        session.flush()
        patient_id = patient.id
    start = datetime.now(timezone.utc) - timedelta(days=5)
    for number in range(REPORTS):
        add_report(db, report_type="atf", patient_id=patient_id, provider_id=provider,
                   posted_at=start + timedelta(minutes=number), recipients=(employer,),
                   store=store, label=f"whole-search-{number:03d}")


@pytest.fixture(scope="module")
def search_portal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole-search")
    yield from _start_portal(folder, {}, lambda db: _post_many(db, folder / "blobs"))


def _stored(portal, report_ids: set[int] | None = None) -> dict[int, bytes]:
    """The stored PDF of each of the patient's reports, by report id."""
    db = Database(portal["database_url"])
    store = BlobStore(Path(portal["database_url"].removeprefix("sqlite:///")).parent / "blobs")
    try:
        with db.transaction(write=False) as session:
            rows = session.execute(select(Report.id, Report.file_sha256).join(
                Patient, Patient.id == Report.patient_id).where(Patient.last_name == LAST_NAME))
            return {report_id: store.get(sha) for report_id, sha in rows
                    if report_ids is None or report_id in report_ids}
    finally:
        db.dispose()


def _search_patient(page: Page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    open_report_filters(page)
    page.get_by_role("textbox", name="Patient name").fill(LAST_NAME)
    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text(f"{REPORTS} results · showing 1–50")).to_be_visible()
    settled(page)


def _ticked(page: Page, row: int) -> bool:
    """Whether a row's tick box is drawn ticked (filled with colour; an empty box is grey)."""
    box = grid_box(page)
    x, y = box["x"] + 14, box["y"] + GRID_ROW_HEIGHT * (row + 1.5)
    picture = Image.open(io.BytesIO(page.screenshot(clip={
        "x": x - 6, "y": y - 6, "width": 12, "height": 12}))).convert("RGB")
    pixels = (picture.getpixel((across, down)) for across in range(picture.width)
              for down in range(picture.height))
    return any(max(pixel) - min(pixel) > 80 for pixel in pixels)


def _in_grid_order(portal) -> list[int]:
    """The patient's report ids as the grid lists them: newest posting first."""
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            return list(session.scalars(select(Report.id).join(
                Patient, Patient.id == Report.patient_id).where(Patient.last_name == LAST_NAME)
                .order_by(Report.posted_at.desc(), Report.id.desc())))
    finally:
        db.dispose()


def _turn(page: Page, button: str, showing: str) -> None:
    page.get_by_role("button", name=button).click()
    expect(page.get_by_text(f"{REPORTS} results · showing {showing}")).to_be_visible()
    settled(page)


def _download(page: Page, count: int, tmp_path: Path) -> zipfile.ZipFile:
    """Download the chosen reports as a ZIP, as a person does: ask for it, then save it."""
    page.get_by_role("button", name=f"Download {count} reports").click()
    save = page.get_by_role("link", name=re.compile(r"^Save reports_.*\.zip$"))
    expect(save).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=120_000) as started:
        save.click()
    target = tmp_path / "bundle.zip"
    started.value.save_as(target)
    return zipfile.ZipFile(target)


def _report_ids_in(archive: zipfile.ZipFile) -> set[int]:
    found = {int(re.search(r"report-(\d+)\.pdf$", name).group(1)) for name in archive.namelist()
             if name.endswith(".pdf")}
    assert len(found) == len([n for n in archive.namelist() if n.endswith(".pdf")])
    return found


def test_select_all_results_across_three_pages_downloads_exactly_them(search_portal, browser,
                                                                      tmp_path):
    page = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000}
                               ).new_page()
    sign_in(page, search_portal["url"], "employer@demo.test")
    _search_patient(page)
    expect(page.get_by_text("selected", exact=False)).to_have_count(0)
    page.get_by_role("button", name=f"Select all {REPORTS} results of this search").click()
    expect(page.get_by_text(f"{REPORTS} reports selected")).to_be_visible()
    settled(page)
    # Every row in sight is ticked, and the choice holds while the pages turn.
    page.screenshot(path=str(tmp_path / "all-selected.png"), full_page=True)
    assert _ticked(page, 0) and _ticked(page, 5)
    _turn(page, "Next →", "51–100")
    expect(page.get_by_text(f"{REPORTS} reports selected")).to_be_visible()
    assert _ticked(page, 0) and _ticked(page, 5)
    _turn(page, "Next →", "101–120")
    expect(page.get_by_text(f"{REPORTS} reports selected")).to_be_visible()
    assert _ticked(page, 0) and _ticked(page, 5)
    expect(page.get_by_role("button", name=re.compile("^Select all"))).to_have_count(0)

    archive = _download(page, REPORTS, tmp_path)
    stored = _stored(search_portal)
    assert len(stored) == REPORTS
    assert _report_ids_in(archive) == set(stored)
    for name in archive.namelist():
        if name.endswith(".pdf"):
            report_id = int(re.search(r"report-(\d+)\.pdf$", name).group(1))
            assert archive.read(name) == stored[report_id]

    # Clear lets every one go, on every page.
    page.get_by_role("button", name="Clear all selected").click()
    expect(page.get_by_text("reports selected")).to_have_count(0)
    settled(page)
    assert not _ticked(page, 0)
    page.context.close()


def test_ticks_on_two_pages_add_up_and_download_together(search_portal, browser, tmp_path):
    page = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000}
                               ).new_page()
    sign_in(page, search_portal["url"], "employer@demo.test")
    _search_patient(page)
    order = _in_grid_order(search_portal)
    chosen = {order[0], order[2], order[51]}  # rows 1 and 3 of page 1, row 2 of page 2
    click_grid_row(page, 0)
    expect(page.get_by_text("1 report selected")).to_be_visible()
    settled(page)
    click_grid_row(page, 2)
    expect(page.get_by_text("2 reports selected")).to_be_visible()
    settled(page)
    _turn(page, "Next →", "51–100")
    # The two from page 1 are still chosen; nothing on this page is ticked until the person does.
    expect(page.get_by_text("2 reports selected")).to_be_visible()
    assert not _ticked(page, 0)
    click_grid_row(page, 1)
    expect(page.get_by_text("3 reports selected")).to_be_visible()
    settled(page)
    _turn(page, "← Previous", "1–50")
    assert _ticked(page, 0) and not _ticked(page, 1) and _ticked(page, 2)

    archive = _download(page, 3, tmp_path)
    assert _report_ids_in(archive) == chosen
    stored = _stored(search_portal, chosen)
    for name in archive.namelist():
        if name.endswith(".pdf"):
            assert archive.read(name) == stored[int(re.search(r"report-(\d+)\.pdf$", name).group(1))]
    page.context.close()
