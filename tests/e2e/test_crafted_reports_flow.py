"""Crafted PDFs posted for the demo employer's patients never take the portal down.

The files are posted through the service in the set-up; the ones the upload check now refuses
(a form that draws itself) are posted with the check bypassed, as files posted before the
check followed forms would be. The employer opens each in Chromium: "No preview for this
report" or a bounded picture, the PDF downloads, the server process's memory stays flat, and
another user in another browser still gets the Reports screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import User
from services import principals
from services.reports import ingest, pdf_check
from services.reports.ingest import ReportUpload
from tests.e2e.conftest import _chromium, _start_portal, employer_reports, sign_in
from tests.fixtures import bad_pdfs

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35
EMPLOYER = "Harborline Freight Co."
CRAFTED = {
    "self-drawing.pdf": bad_pdfs.self_drawing_xobject_pdf,
    "fan-out.pdf": bad_pdfs.fan_out_xobjects_pdf,
    "tall-page.pdf": bad_pdfs.extreme_page_pdf,
    "huge-image.pdf": bad_pdfs.huge_image_pdf,
}
# Generous for one tab's session state; a self-drawing form grows PDFium by 200+ MB a second.
MAX_GROWTH_KB = 50 * 1024


@pytest.fixture(scope="module")
def crafted_portal(tmp_path_factory):
    """A portal of its own: the crafted reports and their openings would change what the other
    browser tests find newest in the employer's list and in its access history."""
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("crafted"), {})


def _server_pid(database_url: str) -> int:
    """The portal server started by the fixture: our own child process with this database."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in command and f"DATABASE_URL={database_url}".encode() in environ:
            return int(proc.name)
    raise AssertionError("the portal server process was not found")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _post_crafted(database_url: str, monkeypatch) -> None:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.email == "clinicadmin@demo.test"))
            clinic = principals.load(session, user)
        npi = next(iter(ingest.upload_choices(db, clinic).providers))
        checked = pdf_check.check_pdf

        def as_before_the_fix(data: bytes, **limits) -> pdf_check.PdfCheck:
            # Files posted before the check followed forms: accept what the check refuses now.
            result = checked(data, **limits)
            return result if result.ok else pdf_check.PdfCheck(page_count=1, reason=None)

        monkeypatch.setattr(pdf_check, "check_pdf", as_before_the_fix)
        uploads = [ReportUpload(name, make(), {
            "report_type": "ccf", "provider_npi": npi, "service_date": "2026-01-15",
            "patient_last_name": "Crafted", "patient_first_name": f"File{n}",
            "patient_date_of_birth": "1980-01-01", "employee_id": f"CRAFT-{n}",
            "employer": EMPLOYER, "injury": "no"})
            for n, (name, make) in enumerate(CRAFTED.items())]
        outcomes = ingest.ingest(
            db, clinic, uploads,
            blob_store=BlobStore(Path(database_url.removeprefix("sqlite:///")).parent / "blobs"))
        assert [o.result for o in outcomes] == ["posted"] * len(CRAFTED), outcomes
    finally:
        monkeypatch.undo()
        db.dispose()


def _open_row(page: Page, url: str, index: int) -> None:
    sign_in(page, url, "employer@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + ROW_HEIGHT * (index + 1) + ROW_HEIGHT / 2)
    expect(page.get_by_role("button", name="Download 1 report", exact=True)).to_be_visible()
    page.get_by_role("button", name="Open report").click()


def test_crafted_reports_open_without_growing_the_server_or_stopping_others(
        crafted_portal, browser, monkeypatch):
    portal = crafted_portal
    url = portal["url"]
    pid = _server_pid(portal["database_url"])
    _post_crafted(portal["database_url"], monkeypatch)
    crafted = {row.id for row in employer_reports(portal["database_url"])
               if row.patient_name.startswith("Crafted")}
    assert len(crafted) == len(CRAFTED)

    # Warm up: a first sign-in and an ordinary report load the screens' modules.
    warm = browser.new_context()
    _open_row(warm.new_page(), url, len(CRAFTED))
    warm.close()
    before = _rss_kb(pid)

    for index in range(len(CRAFTED)):  # the crafted reports are the newest
        context = browser.new_context()
        page = context.new_page()
        _open_row(page, url, index)
        expect(page.get_by_role("heading", name="Custody and control form (CCF), 2026-01-15")
               ).to_be_visible()
        no_preview = page.get_by_text("No preview for this report")
        picture = page.get_by_test_id("stImage")
        expect(no_preview.or_(picture)).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        if picture.count():
            size = picture.locator("img").evaluate("img => [img.naturalWidth, img.naturalHeight]")
            assert max(size) <= 2000, size
        with page.expect_download() as download:
            page.get_by_role("button", name="Download PDF").click()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
        context.close()

    after = _rss_kb(pid)
    assert after - before < MAX_GROWTH_KB, (before, after)

    # Someone else, in another browser, is still served.
    other = browser.new_context()
    page = other.new_page()
    sign_in(page, url, "payor@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    other.close()
    print(f"server RSS before {before / 1024:.0f} MB, after {after / 1024:.0f} MB")
