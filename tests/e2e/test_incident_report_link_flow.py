"""The privacy officer follows an incident's link to its report: the report opens on Reports with
the purpose "HIPAA incident review" and the incident's reference chosen, and the opening is
audited as any other."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent
from services.privacy import incidents
from services.reports import search
from tests.conftest import principal_of
from tests.e2e.conftest import _start_portal, click_grid_row, sign_in

pytestmark = pytest.mark.browser


def _flag_one_report(db: Database) -> None:
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    incidents.flag(db, employer, report_id=report.id, note="Not our employee")


@pytest.fixture(scope="module")
def incident_portal(tmp_path_factory):
    yield from _start_portal(tmp_path_factory.mktemp("incident-link"), {}, prepare=_flag_one_report)


def _the_incident(database_url: str) -> incidents.IncidentDetail:
    db = Database(database_url)
    try:
        privacy = principal_of(db, "privacy@demo.test")
        (row,) = incidents.queue(db, privacy)
        return incidents.detail(db, privacy, incident_id=row.id)
    finally:
        db.dispose()


def _opened_by_privacy(database_url: str) -> list[int]:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            return [int(e.target_id) for e in session.scalars(select(AuditEvent).where(
                AuditEvent.action == "report.opened",
                AuditEvent.actor_email == "privacy@demo.test"))]
    finally:
        db.dispose()


def test_privacy_officer_follows_the_incident_link_to_the_report(incident_portal, context):
    url, database_url = incident_portal["url"], incident_portal["database_url"]
    incident = _the_incident(database_url)
    page = context.new_page()
    sign_in(page, url, "privacy@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="HIPAA queue").click()
    expect(page.get_by_role("heading", name="HIPAA queue")).to_be_visible()
    click_grid_row(page, 0)
    expect(page.get_by_role("heading", name=f"Incident {incident.id}: Open")).to_be_visible()
    assert _opened_by_privacy(database_url) == []  # the incident alone opens no report

    page.get_by_role("link", name=f"Open report {incident.report_id} for review").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page).to_have_url(f"{url.rstrip('/')}/reports?report={incident.report_id}"
                             f"&incident={incident.id}")
    heading = page.get_by_role("heading", name=f"{incident.report_type}, {incident.service_date}")
    expect(heading).to_be_visible()
    expect(heading).to_be_in_viewport()
    expect(page.get_by_role("combobox", name="Why are you opening this report?")
           ).to_have_value("HIPAA incident review")
    expect(page.get_by_role("textbox", name="Ticket reference")).to_have_value(f"INC-{incident.id}")
    # The purpose is chosen, so the PDF is there to read; the officer could still change it.
    expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
    expect(page.get_by_text("Choose a purpose to see and download the PDF.")).to_have_count(0)
    assert _opened_by_privacy(database_url) == [incident.report_id]
