"""The privacy officer works two incidents in a row: what was typed and saved for the first never
shows on the second, closing asks first and names the incident, and after closing nothing else
is ticked in its place."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Incident
from services.privacy import incidents
from services.reports import search
from tests.conftest import principal_of
from tests.e2e.conftest import _start_portal, sign_in

pytestmark = pytest.mark.browser
ROW_HEIGHT = 35
FIRST = {"nature": "Name and test result", "recipient": "HR of another employer",
         "acquired": "Opened once", "mitigation": "Deletion attested by phone"}
ATTESTATION = "The recipient attested that every copy was destroyed"


def _flag_two_reports(db: Database) -> None:
    """Two reports received in error by the employer: two open incidents, oldest first."""
    employer = principal_of(db, "employer@demo.test")
    for report in search.search(db, employer, search.ReportFilter()).rows[:2]:
        incidents.flag(db, employer, report_id=report.id, note="Not our employee")


@pytest.fixture(scope="module")
def two_incidents_portal(tmp_path_factory):
    yield from _start_portal(tmp_path_factory.mktemp("hipaa-queue"), {}, prepare=_flag_two_reports)


def _incidents(database_url: str) -> list[incidents.IncidentDetail]:
    """Every incident as the privacy officer's service calls see it, oldest first."""
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            ids = session.scalars(select(Incident.id).order_by(Incident.id)).all()
        privacy = principal_of(db, "privacy@demo.test")
        return [incidents.detail(db, privacy, incident_id=i) for i in ids]
    finally:
        db.dispose()


def _tick_row(page: Page, row: int) -> None:
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + ROW_HEIGHT * (row + 1.5))


def _factor(page: Page, key: str):
    return page.get_by_role("textbox", name=incidents.FACTORS[key])


def _cancelled_then_confirmed(page: Page, button: str, confirm: str, *, says: tuple[str, ...],
                              heading: str, unchanged: Callable[[], bool]) -> None:
    """The dialog says what will happen to which incident; Cancel changes nothing and leaves the
    incident on the screen as it was; asked again, the officer confirms."""
    page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    for text in says:
        expect(dialog).to_contain_text(text)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert unchanged()
    page.get_by_role("button", name=button).click()
    expect(dialog).to_contain_text(says[0])
    dialog.get_by_role("button", name=confirm).click()
    expect(dialog).to_be_hidden()


def test_two_incidents_in_a_row_each_shows_its_own_and_closing_names_it(two_incidents_portal, context):
    url, database_url = two_incidents_portal["url"], two_incidents_portal["database_url"]
    first, second = _incidents(database_url)
    page = context.new_page()
    sign_in(page, url, "privacy@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="HIPAA queue").click()
    expect(page.get_by_role("heading", name="HIPAA queue")).to_be_visible()

    _tick_row(page, 0)
    expect(page.get_by_role("heading", name=f"Incident {first.id}: Open")).to_be_visible()
    ticked = page.get_by_test_id("stDataFrame").first.locator("tr[aria-selected=true]")
    expect(ticked).to_have_count(1)
    expect(ticked).to_contain_text(str(first.report_id))
    for key, text in FIRST.items():
        _factor(page, key).fill(text)
    page.get_by_text(ATTESTATION).click()
    page.get_by_text(incidents.OUTCOMES["low_probability"]).click()
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_text("Assessment saved.")).to_be_visible()
    page.get_by_role("textbox", name="Resolution").fill("Removed; destruction attested.")
    _cancelled_then_confirmed(
        page, "Close the incident", f"Close incident {first.id}",
        says=(f"Incident {first.id}: report {first.report_id}",
              f"received in error by {first.wrong_account}", "Removed; destruction attested."),
        heading=f"Incident {first.id}: Open",
        unchanged=lambda: _incidents(database_url)[0].status == "open")
    expect(page.get_by_text("Closed.")).to_be_visible()

    # After closing: the list holds only the second, nothing is ticked, no panel is open.
    expect(page.get_by_text(f"Incident {first.id} is no longer in this list, so no longer "
                            "selected.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Incident {second.id}", exact=False)).to_have_count(0)
    expect(page.get_by_role("textbox", name=incidents.FACTORS["nature"])).to_have_count(0)
    grid = page.get_by_test_id("stDataFrame").first
    expect(ticked).to_have_count(0)
    expect(grid.locator("td[role=gridcell]").filter(has_text=str(first.report_id))).to_have_count(0)

    # The second one, chosen now, shows its own (empty) assessment, not the first one's.
    _tick_row(page, 0)
    expect(page.get_by_role("heading", name=f"Incident {second.id}: Open")).to_be_visible()
    for key in FIRST:
        expect(_factor(page, key)).to_have_value("")
    expect(page.get_by_role("checkbox", name=ATTESTATION)).not_to_be_checked()
    for label in incidents.OUTCOMES.values():
        expect(page.get_by_role("radio", name=label)).not_to_be_checked()
    expect(page.get_by_role("textbox", name="Resolution")).to_have_value("")

    closed, still_open = _incidents(database_url)
    assert (closed.status, closed.outcome, closed.assessment["acquired"]) == (
        "closed", "low_probability", "Opened once")
    assert (still_open.status, still_open.outcome, still_open.resolution) == ("open", None, "")

    # Reopening asks first and names the incident; Cancel leaves it closed.
    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Closed").click()
    expect(page.get_by_text(f"Incident {second.id} is no longer in this list, so no longer "
                            "selected.")).to_be_visible()
    _tick_row(page, 0)
    expect(page.get_by_role("heading", name=f"Incident {first.id}: Closed")).to_be_visible()
    _cancelled_then_confirmed(
        page, "Reopen", f"Reopen incident {first.id}",
        says=(f"Incident {first.id}: report {first.report_id}", "back in review"),
        heading=f"Incident {first.id}: Closed",
        unchanged=lambda: _incidents(database_url)[0].status == "closed")
    expect(page.get_by_text("Reopened.")).to_be_visible()
    assert _incidents(database_url)[0].status == "in_review"
    # The same run: the closed list no longer holds it, and nothing is left ticked or open.
    expect(page.get_by_text(f"Incident {first.id} is no longer in this list, so no longer "
                            "selected.")).to_be_visible()
    expect(page.get_by_text("No incidents here.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Incident {first.id}", exact=False)).to_have_count(0)
