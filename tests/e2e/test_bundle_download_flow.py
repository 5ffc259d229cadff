"""An employer ticks two reports, downloads them through the single-use link, and the link is
spent: following it again is refused, and the screen offers a new download."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import Report, User
from pages.common.session_cookie import COOKIE_NAME
from services import clock, principals
from services.identity import sessions
from services.reports import bundle_links
from services.reports.access import pdf_file_name
from services.wording import size
from tests.e2e.conftest import click_grid_row, employer_reports, grid_box, sign_in

pytestmark = pytest.mark.browser
EMPLOYER = "employer@demo.test"


def _stored(database_url: str, report_ids: list[int]) -> dict[int, Report]:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            return {r.id: r for r in session.scalars(select(Report).where(Report.id.in_(report_ids)))}
    finally:
        db.dispose()


def _tick(page: Page, rows: tuple[int, ...]) -> None:
    box = grid_box(page)
    for ticked, row in enumerate(rows, start=1):
        click_grid_row(page, row, box)
        # Each tick reruns the results: wait until the screen counts it before the next one.
        expect(page.get_by_role("button", name=f"Download {ticked} report", exact=False)).to_be_visible()


def test_employer_downloads_two_reports_through_a_link_that_works_once(portal, context):
    expected = employer_reports(portal["database_url"])[:2]  # newest first, as the grid shows them
    page = context.new_page()
    sign_in(page, portal["url"], "employer@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()

    _tick(page, (0, 1))
    stored = _stored(portal["database_url"], [row.id for row in expected])
    total = sum(report.file_size for report in stored.values())
    expect(page.get_by_text(f"2 reports · {size(total)}", exact=True)).to_be_visible()
    page.get_by_role("button", name="Download 2 reports", exact=True).click()
    save = page.get_by_role("link", name=re.compile(r"^Save reports_.*_2\.zip$"))
    expect(save).to_be_visible()
    url, label = save.get_attribute("href"), save.inner_text().strip()
    assert url and url.startswith("/bundles/")

    with page.expect_download() as download:
        save.click()
    saved = download.value
    assert saved.suggested_filename == label.removeprefix("Save ")  # the name the button promised
    archive = zipfile.ZipFile(io.BytesIO(Path(saved.path()).read_bytes()))
    assert archive.namelist() == [pdf_file_name(r.report_type, r.service_date, r.id) for r in expected]
    blobs = BlobStore(Path(portal["database_url"].removeprefix("sqlite:///")).parent / "blobs")
    for row, name in zip(expected, archive.namelist(), strict=True):
        assert archive.read(name) == blobs.get(stored[row.id].file_sha256)

    # The link is spent: the same browser (same cookies) following it again is refused.
    again = page.request.get(portal["url"].rstrip("/") + url)
    assert again.status == 410
    assert "already used or has expired" in again.text()
    assert again.headers["cache-control"] == "no-store"
    # And the screen offers a new download of the same two.
    expect(page.get_by_role("button", name="Download 2 reports", exact=True)).to_be_visible()
    expect(save).to_have_count(0)


def test_the_link_answers_only_its_maker_signed_in(portal, browser):
    """Over HTTP, as any client sees the route: no cookie, another person's session or a HEAD is
    refused without spending the link; its maker then gets the ZIP as an attachment, not cached."""
    db = Database(portal["database_url"])
    try:
        with db.transaction() as session:
            users = {u.email: u for u in session.scalars(select(User).where(
                User.email.in_([EMPLOYER, "payor@demo.test"])))}
            maker = principals.load(session, users[EMPLOYER])
            own = sessions.start(session, user=users[EMPLOYER], now=clock.now())
            other = sessions.start(session, user=users["payor@demo.test"], now=clock.now())
        chosen = [row.id for row in employer_reports(portal["database_url"])[:3]]
        token = bundle_links.create(db, maker, chosen, bundle_format="zip")
    finally:
        db.dispose()
    link = portal["url"].rstrip("/") + f"/bundles/{token}"
    request = browser.new_context().request

    for cookie in (None, other):
        refused = request.get(link, headers={"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {})
        assert refused.status == 403
        assert refused.text().startswith("This download link works only for the person who made it")
        assert refused.headers["cache-control"] == "no-store"

    # A HEAD (link checkers, previews) does not spend it either.
    assert request.head(link, headers={"Cookie": f"{COOKIE_NAME}={own}"}).status == 405

    saved = request.get(link, headers={"Cookie": f"{COOKIE_NAME}={own}"})
    assert saved.status == 200
    assert saved.headers["content-type"] == "application/zip"
    assert re.fullmatch(r'attachment; filename="reports_[0-9_-]+_3\.zip".*',
                        saved.headers["content-disposition"])
    assert saved.headers["cache-control"] == "no-store"
    assert saved.headers["x-content-type-options"] == "nosniff"  # the security headers still apply
    assert len(zipfile.ZipFile(io.BytesIO(saved.body())).namelist()) == 3

    unknown = request.get(portal["url"].rstrip("/") + "/bundles/" + "x" * 43)
    assert unknown.status == 410
    assert "Go back to Reports and download again." in unknown.text()
