"""Staff at work, walked as they would: an admin deactivates two people at once and is then
offered nothing that cannot apply to them; support mistypes an NPI and corrects it without
typing the facility again; the privacy officer closes an incident and is told which one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Incident
from services.privacy import incidents
from services.reports import search
from tests.conftest import principal_of
from tests.e2e.conftest import _start_portal, click_grid_row, grid_box, settled, sign_in

pytestmark = pytest.mark.browser
VALID_NPI = "1234567893"  # passes the NPI check digit; no demo facility has it
MISTYPED_NPI = "1234567890"


def _flag_one_report(db: Database) -> None:
    """One report the employer (Harborline Freight Co.) received in error: one open incident."""
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    incidents.flag(db, employer, report_id=report.id, note="Not our employee")


@pytest.fixture(scope="module")
def staff_portal(tmp_path_factory):
    yield from _start_portal(tmp_path_factory.mktemp("staff-walk"), {}, prepare=_flag_one_report)


def _open(page: Page, screen: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=screen).click()
    expect(page.get_by_role("heading", name=screen, exact=True)).to_be_visible()


def _tick_person(page: Page, email: str) -> None:
    """Tick the people list's row of `email` (the grid is a canvas: its rows are clicked)."""
    # The grid that lists the address (the Client accounts screen draws the account's report
    # types above its people).
    grid = page.get_by_test_id("stDataFrame").filter(has_text=email).first
    rows = grid.locator("tbody tr")
    expect(rows.filter(has_text=email)).to_have_count(1)
    emails = [row.inner_text() for row in rows.all()]
    click_grid_row(page, next(i for i, text in enumerate(emails) if email in text), grid_box(page, grid))


def test_after_deactivating_two_people_nothing_is_offered_that_cannot_apply(staff_portal, context):
    page = context.new_page()
    sign_in(page, staff_portal["url"], "admin@demo.test")
    _open(page, "Users")
    _tick_person(page, "employer@demo.test")
    expect(page.get_by_role("button", name="Deactivate (1)")).to_be_visible()
    _tick_person(page, "payor@demo.test")
    page.get_by_role("button", name="Deactivate (2)").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Erin Ellis (employer@demo.test)")
    expect(dialog).to_contain_text("Paul Perez (payor@demo.test)")
    dialog.get_by_role("button", name="Deactivate (2)").click()
    expect(page.get_by_text("Deactivate: done for 2 of 2 people.")).to_be_visible()

    # Both stay ticked, now deactivated: their sessions ended with the deactivation, so neither
    # Deactivate nor End sessions is offered again, and each says why.
    ticked = page.get_by_test_id("stDataFrame").first.locator("tr[aria-selected=true]")
    expect(ticked).to_have_count(2)
    expect(page.get_by_role("button", name="Deactivate", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="End sessions", exact=True)).to_be_disabled()
    expect(page.get_by_text("Deactivated people have no sessions; to sign yourself out, use "
                            "Sign out.")).to_be_visible()
    expect(page.get_by_role("button", name="End sessions (2)")).to_have_count(0)

    # Looked up by address, a deactivated person is offered Reactivate, not End sessions.
    page.get_by_role("textbox", name="Email address", exact=True).fill("employer@demo.test")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("Erin Ellis (employer@demo.test): status deactivated")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    expect(page.get_by_role("button", name="End sessions", exact=True)).to_have_count(1)  # the bulk one
    expect(page.get_by_role("button", name="End sessions", exact=True)).to_be_disabled()


def test_a_mistyped_npi_keeps_what_was_typed_and_a_code_empties_the_form(staff_portal, context):
    page = context.new_page()
    sign_in(page, staff_portal["url"], "support@demo.test")
    _open(page, "Registration codes")
    npi = page.get_by_role("textbox", name="Facility NPI")
    name = page.get_by_role("textbox", name="Facility name")
    npi.fill(MISTYPED_NPI)
    name.fill("Lakeside Occupational Health")
    page.get_by_role("button", name="Issue code").click()
    expect(page.get_by_text("This number is not a valid NPI; check it.")).to_be_visible()
    # The person corrects the number; the facility name is still there.
    expect(npi).to_have_value(MISTYPED_NPI)
    expect(name).to_have_value("Lakeside Occupational Health")

    npi.fill(VALID_NPI)
    page.get_by_role("button", name="Issue code").click()
    expect(page.get_by_text(f"Code for NPI {VALID_NPI}:")).to_be_visible()
    expect(page.get_by_text("It is shown only now")).to_be_visible()
    expect(npi).to_have_value("")
    expect(name).to_have_value("")
    expect(page.get_by_role("heading", name="Recent codes")).to_be_visible()
    cells = page.get_by_test_id("stDataFrame").first.locator("td[role=gridcell]")
    expect(cells.filter(has_text="Lakeside Occupational Health")).to_have_count(1)


def test_closing_an_incident_names_it_in_the_question_and_afterwards(staff_portal, context):
    database_url = staff_portal["database_url"]
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            incident_id = session.scalars(select(Incident.id)).one()
        found = incidents.detail(db, principal_of(db, "privacy@demo.test"), incident_id=incident_id)
    finally:
        db.dispose()
    assert found.wrong_account == "Harborline Freight Co."
    page = context.new_page()
    sign_in(page, staff_portal["url"], "privacy@demo.test")
    _open(page, "HIPAA queue")
    click_grid_row(page, 0)
    expect(page.get_by_role("heading", name=f"Incident {incident_id}: Open")).to_be_visible()
    for label in incidents.FACTORS.values():
        page.get_by_role("textbox", name=label).fill("Assessed")
    page.get_by_text(incidents.OUTCOMES["low_probability"]).click()
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_text(f"Incident {incident_id}: assessment saved.")).to_be_visible()
    page.get_by_role("textbox", name="Resolution").fill("Destruction attested.")
    page.get_by_role("button", name="Close the incident").click()
    dialog = page.get_by_role("dialog")
    # The account's own name ends the sentence: one full stop, not two.
    expect(dialog).to_contain_text("received in error by Harborline Freight Co.")
    assert "Co.." not in dialog.inner_text()
    dialog.get_by_role("button", name=f"Close incident {incident_id}").click()
    # The incident left the list: the message still says which one was closed.
    expect(page.get_by_text(f"Incident {incident_id}: closed.")).to_be_visible()
    expect(page.get_by_text(f"Incident {incident_id} is no longer in this list")).to_be_visible()


def _choose(page: Page, box: str, option: str) -> list[str]:
    """Open the `box` drop-down, note every choice it offers, and choose `option`."""
    choices = page.get_by_role("option")
    for _ in range(3):
        # A click that lands while a rerun redraws the box opens nothing: open it again.
        settled(page)
        page.get_by_role("combobox", name=box).click()
        try:
            expect(choices.first).to_be_visible(timeout=8_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    expect(choices.first).to_be_visible()
    offered = [text.strip() for text in choices.all_inner_texts()]
    choices.filter(has_text=option).first.click()
    settled(page)
    return offered


def test_an_account_rep_is_offered_only_accounts_the_person_is_not_in(staff_portal, context):
    page = context.new_page()
    sign_in(page, staff_portal["url"], "accounts@demo.test")
    _open(page, "Client accounts")
    _choose(page, "Account", "Northgate Claims Services")
    _tick_person(page, "tpa@demo.test")
    offered = _choose(page, "Add to account", "Cedar Ridge Fabrication")
    assert any(name.startswith("Cedar Ridge Fabrication") for name in offered)
    assert not any(name.startswith("Northgate Claims Services") for name in offered)
    _choose(page, "With the role", "Client account user")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added to the account.")).to_be_visible()
    settled(page)
    # The account just given is no longer offered, and no role is chosen for the next one: none
    # is shown either (the screen once held none while still showing the last one).
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_disabled()
    expect(page.get_by_role("combobox", name="With the role")).to_have_value("")
    offered = _choose(page, "Add to account", "Keystone Casualty Company")
    assert not any(name.startswith(("Cedar Ridge Fabrication", "Northgate Claims Services"))
                   for name in offered)
