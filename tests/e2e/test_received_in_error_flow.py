"""An employer flags a report received in error; it leaves their view at once and cannot be fetched
by id; the privacy officer sees the employer's access, assesses the incident and closes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent, Incident
from services.privacy import incidents
from tests.e2e.conftest import employer_reports, remove_from_view, settled, sign_in

pytestmark = pytest.mark.browser
ROW_HEIGHT = 35


def _sign_in(page: Page, url: str, email: str) -> None:
    sign_in(page, url, email)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def _earlier_accesses(database_url: str, report_id: int) -> dict[str, int]:
    """What other browser tests on this portal already did with the report, by kind of access."""
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            actions = session.scalars(select(AuditEvent.action).where(
                AuditEvent.target_type == "report", AuditEvent.target_id == str(report_id),
                AuditEvent.actor_email == "employer@demo.test")).all()
    finally:
        db.dispose()
    return {kind: actions.count(f"report.{kind}") for kind in ("opened", "previewed", "downloaded")}


def test_a_report_received_in_error_is_removed_reviewed_and_closed(portal, context):
    url = portal["url"]
    before = [r.id for r in employer_reports(portal["database_url"])]
    flagged = before[0]
    earlier = _earlier_accesses(portal["database_url"], flagged)
    page = context.new_page()

    _sign_in(page, url, "employer@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + ROW_HEIGHT * 1.5)
    page.get_by_role("button", name="Open report").click()
    expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
    settled(page)
    page.get_by_text("I received this in error").click()
    page.get_by_role("textbox", name="Note for the privacy team (optional)").fill("Not our employee")
    remove_from_view(page)
    # Read from another process: allow the server's write a moment to be seen here.
    for _ in range(20):
        if flagged not in [r.id for r in employer_reports(portal["database_url"])]:
            break
        page.wait_for_timeout(250)
    assert flagged not in [r.id for r in employer_reports(portal["database_url"])]

    # Asked for by id, it is refused.
    page.goto(f"{url}/reports?report={flagged}")
    expect(page.get_by_text("This report is not available to you.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()

    _sign_in(page, url, "privacy@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="HIPAA queue").click()
    page.get_by_role("button", name="Take the next one").click()
    expect(page.get_by_text("is yours")).to_be_visible()
    # The access history grid: the employer's open of the report, taken from the audit trail.
    # (The canvas grid's cells exist for assistive technology, hidden from view.)
    history = page.get_by_test_id("stDataFrame").last
    cells = history.locator("td[role=gridcell]")
    expect(cells.filter(has_text="opened")).to_have_count(earlier["opened"] + 1)
    # The view shows page one.
    expect(cells.filter(has_text="previewed")).to_have_count(earlier["previewed"] + 1)
    expect(cells.filter(has_text="employer@demo.test")).to_have_count(sum(earlier.values()) + 2)
    for label, text in zip(incidents.FACTORS.values(),
                           ("Name and test result", "HR of another employer", "Opened once",
                            "Deletion attested by phone"), strict=True):
        page.get_by_role("textbox", name=label).fill(text)
    page.get_by_text(incidents.OUTCOMES["low_probability"]).click()
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_text("Assessment saved.")).to_be_visible()
    page.get_by_role("textbox", name="Resolution").fill("Removed; destruction attested.")
    page.get_by_role("button", name="Close the incident").click()
    page.get_by_role("dialog").get_by_role("button", name="Close incident ", exact=False).click()
    expect(page.get_by_text("Closed.")).to_be_visible()

    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            incident = session.scalar(select(Incident).where(Incident.report_id == flagged))
    finally:
        db.dispose()
    assert (incident.status, incident.outcome) == ("closed", "low_probability")
    assert incident.assessment["acquired"] == "Opened once"
