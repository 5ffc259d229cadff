"""Each role's main job done with the keyboard alone: Tab, Shift+Tab, arrows, Enter, Space,
Escape and typing, after the first page load. At every stop the focused control is the one the
person means to reach (by its accessible name) and its focus ring can be seen.

The results grid is a canvas: a row is ticked with Shift+Space on one of its cells (Space alone
does nothing there); docs/accessibility.md, "Keyboard".
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Incident, RoleInvitation, User
from services.demo import seed
from services.privacy import incidents
from services.reports import search
from services.reports.access import pdf_file_name
from services.statuses import IncidentStatus, UserStatus
from tests.conftest import principal_of
from tests.e2e.conftest import _start_portal, settled, stored

pytestmark = pytest.mark.browser
RESOLUTION = "Removed from the employer's view; the recipient attested that the copy was deleted."

# The focused element draws a ring: an outline or a box shadow that is not "none".
_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || (style.boxShadow !== "none" && style.boxShadow !== "");
}"""


def _one_assessed_incident(db: Database) -> None:
    """A report the employer received in error, assessed, waiting to be closed."""
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    incidents.flag(db, employer, report_id=report.id, note="Not our employee")
    privacy = principal_of(db, "privacy@demo.test")
    incident_id = incidents.queue(db, privacy, status=None, assignee_id=None)[0].id
    incidents.assess(db, privacy, incident_id=incident_id, outcome="low_probability",
                     factors={key: "Checked by phone" for key in incidents.FACTORS})


@pytest.fixture(scope="module")
def keyboard_portal(tmp_path_factory):
    """Its own portal: these walks invite people and work an incident."""
    yield from _start_portal(tmp_path_factory.mktemp("keyboard"), {}, prepare=_one_assessed_incident)


def _is_focused(target: Locator) -> bool:
    return target.evaluate("element => element === document.activeElement")


def _assert_focus_seen(page: Page, target: Locator) -> None:
    expect(target).to_be_focused()
    assert page.evaluate(_RING), f"no visible focus ring on {target}"


def _press_to(page: Page, target: Locator, *, key: str = "Tab", limit: int = 80) -> None:
    """Press `key` until `target` has the focus; it must show a ring there."""
    expect(target).to_be_visible()
    settled(page)
    for _ in range(limit):
        page.keyboard.press(key)
        if _is_focused(target):
            _assert_focus_seen(page, target)
            return
    raise AssertionError(f"{key} never reached {target}")


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    _press_to(page, page.get_by_role("textbox", name="Email address"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    _assert_focus_seen(page, page.get_by_role("textbox", name="Password", exact=True))
    page.keyboard.type(seed.DEMO_PASSWORD)
    with page.expect_navigation(url=lambda address: "/auth/" not in address):
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()


def _go_to(page: Page, screen: str, heading: str | None = None) -> None:
    """Through the sidebar: Tab to the screen's link, Enter."""
    _press_to(page, page.get_by_test_id("stSidebarNav").get_by_role("link", name=screen, exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=heading or screen, exact=True)).to_be_visible()


def _tab_into(page: Page, grid: Locator) -> None:
    for _ in range(60):
        page.keyboard.press("Tab")
        # Its toolbar's buttons come first; the grid itself is its canvas.
        if grid.evaluate("grid => grid.querySelector('canvas') === document.activeElement"):
            return
    raise AssertionError("Tab never reached the grid")


def _arrows_reach_first_row(page: Page, first_cell: Locator) -> bool:
    for _ in range(4):
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowUp")
        try:
            expect(first_cell).to_be_focused(timeout=2_500)
            return True
        except AssertionError:
            continue
    return False


def _tick_first_row(page: Page, grid: Locator) -> None:
    """Tab into a results grid, go to its first row and tick it with Shift+Space.

    The grid draws its focus ring on its canvas; what has the focus is a cell of the grid's
    hidden table, so the check here is that the focus is inside this grid, on the first row.
    """
    expect(grid).to_be_visible()
    page.bring_to_front()  # keys and focus go to the page in front
    first_cell = grid.locator("td#glide-cell-1-0")
    # A rerun that redraws the grid meanwhile (seen under a loaded machine) takes the focus
    # away from it: a person would Tab to it again, and so does this.
    for attempt in range(3):
        settled(page)
        _tab_into(page, grid)
        # Focus arrives on the first row; Down and Up again make sure of it whatever the grid
        # chose. A loaded machine may still be drawing the grid when the first keys arrive: a
        # person looks, and presses them again.
        if _arrows_reach_first_row(page, first_cell):
            break
        if attempt == 2:
            raise AssertionError("the first row of the grid never took the focus")
        # Back to the button just above the results, and Tab from there again.
        page.get_by_role("button", name="Save this search").focus()
    page.keyboard.press("Shift+Space")
    expect(grid.locator("tr[aria-selected=true]")).to_have_count(1)


def _cancel(page: Page, dialog: Locator, opener: Locator) -> None:
    """Cancel closes without acting and gives the focus back to the button that opened it."""
    _press_to(page, dialog.get_by_role("button", name="Cancel"), limit=5)
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    _assert_focus_seen(page, opener)


def _newest_report(database_url: str, email: str) -> search.ReportRow:
    db = Database(database_url)
    try:
        return search.search(db, principal_of(db, email), search.ReportFilter()).rows[0]
    finally:
        db.dispose()


@pytest.mark.parametrize("email", ["employer@demo.test", "payor@demo.test", "tpa@demo.test",
                                   "clinic@demo.test"])
def test_a_reader_finds_opens_and_downloads_a_report(keyboard_portal, context, email):
    newest = _newest_report(keyboard_portal["database_url"], email)
    surname = newest.patient_name.split(",")[0]
    page = context.new_page()
    _sign_in(page, keyboard_portal["url"], email)
    _go_to(page, "Reports")

    _press_to(page, page.get_by_role("textbox", name="Patient name"))
    page.keyboard.type(surname)
    page.keyboard.press("Enter")  # submits the search form
    expect(page.get_by_text("results · showing").or_(page.get_by_text("result · showing"))).to_be_visible()

    grid = page.get_by_test_id("stDataFrame").first
    _tick_first_row(page, grid)
    expect(grid.locator("tr[aria-selected=true]")).to_contain_text(surname)
    _press_to(page, page.get_by_role("button", name="Open report"), limit=30)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"{newest.type_label}, {newest.service_date:%Y-%m-%d}")).to_be_visible()

    _press_to(page, page.get_by_role("button", name="Download PDF"), limit=30)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == pdf_file_name(newest.report_type, newest.service_date,
                                                              newest.id)


@pytest.mark.parametrize("email", ["clinicadmin@demo.test", "groupadmin@demo.test"])
def test_a_clinic_admin_reaches_upload_and_invites_staff_with_the_least_role(keyboard_portal, context,
                                                                             email):
    invitee = f"new.staff.of.{email.split('@')[0]}@example.test"
    page = context.new_page()
    _sign_in(page, keyboard_portal["url"], email)
    _go_to(page, "Upload reports")
    uploader = page.get_by_role("region", name="Report PDFs").get_by_test_id("stBaseButton-secondary")
    _press_to(page, uploader)
    _press_to(page, page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users"), key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    _press_to(page, page.get_by_role("textbox", name="Email address (their user ID)"), limit=150)
    page.keyboard.type(invitee)
    # Tab follows the lines as read: Email, Email again, Name, Phone, Role.
    page.keyboard.press("Tab")
    _assert_focus_seen(page, page.get_by_role("textbox", name="Email address again"))
    page.keyboard.type(invitee)
    page.keyboard.press("Tab")
    _assert_focus_seen(page, page.get_by_role("textbox", name="Name", exact=True))
    page.keyboard.type("Nia Staff")
    page.keyboard.press("Tab")
    _assert_focus_seen(page, page.get_by_role("textbox", name="Phone (optional)"))
    page.keyboard.press("Tab")
    role = page.get_by_role("combobox", name="Role to give")
    _assert_focus_seen(page, role)
    page.keyboard.type("Provider staff")
    page.keyboard.press("Enter")
    expect(role).to_have_value(re.compile(r"^Provider staff: "))
    _press_to(page, page.get_by_role("button", name="Send invitation"), limit=5)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Invitation sent.")).to_be_visible()

    db = Database(keyboard_portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            sent = session.scalars(select(RoleInvitation).where(
                RoleInvitation.email == invitee)).all()
            assert [(i.name, i.role) for i in sent] == [("Nia Staff", "provider_staff")]
    finally:
        db.dispose()


def test_privacy_officer_chooses_an_incident_and_backs_out_of_closing_it(keyboard_portal, context):
    page = context.new_page()
    _sign_in(page, keyboard_portal["url"], "privacy@demo.test")
    _go_to(page, "HIPAA queue")
    _tick_first_row(page, page.get_by_test_id("stDataFrame").first)
    expect(page.get_by_role("heading", name="Incident 1: Open")).to_be_visible()

    _press_to(page, page.get_by_role("textbox", name="Resolution"))
    page.keyboard.type(RESOLUTION)
    close = page.get_by_role("button", name="Close the incident")
    _press_to(page, close, limit=3)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Incident 1: report")
    # The dialog takes the focus; Escape closes it and gives the focus back to the button.
    expect(dialog).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    _assert_focus_seen(page, close)

    settled(page)  # closing the dialog reruns the screen
    page.keyboard.press("Enter")
    _cancel(page, dialog, close)
    assert stored(keyboard_portal, select(Incident.status).where(Incident.id == 1)) == IncidentStatus.OPEN


@pytest.mark.parametrize("email", ["admin@demo.test", "support@demo.test", "accounts@demo.test"])
def test_staff_find_a_person_and_cancel_deactivating_them(keyboard_portal, context, email):
    page = context.new_page()
    _sign_in(page, keyboard_portal["url"], email)
    _go_to(page, "Users")
    _press_to(page, page.get_by_role("textbox", name="Email address", exact=True), limit=150)
    page.keyboard.type("tpa@demo.test")
    page.keyboard.press("Enter")
    deactivate = page.get_by_role("button", name="Deactivate", exact=True)
    _press_to(page, deactivate, limit=10)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("(tpa@demo.test)?")
    expect(dialog).to_be_focused()
    _cancel(page, dialog, deactivate)
    status = select(User.status).where(User.email == "tpa@demo.test")
    assert stored(keyboard_portal, status) == UserStatus.ACTIVE


def test_manager_works_the_dashboard(keyboard_portal, context):
    page = context.new_page()
    _sign_in(page, keyboard_portal["url"], "manager@demo.test")
    _go_to(page, "Dashboard")
    # A radio group is one Tab stop; the arrows move the choice.
    _press_to(page, page.get_by_role("radio", name="Week"))
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Month")).to_be_checked()
    _assert_focus_seen(page, page.get_by_role("radio", name="Month"))

    _press_to(page, page.get_by_role("tab", name="Volume"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name="Turnaround")).to_have_attribute("aria-selected", "true")
    _press_to(page, page.get_by_role("button", name="Download turnaround (CSV)"))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.startswith("dashboard_turnaround_")
