"""Clinic staff and their administrators at work: a refused invitation keeps what was typed and a
sent one empties the form; with two reports ticked the screen says why Open report is greyed;
times show in the zone the person chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _chromium, _start_portal, click_grid_row, grid_box, settled, sign_in

pytestmark = pytest.mark.browser

HOUSTON_STAFF = "Provider staff: Sunbelt Occupational Medicine - Houston"
DALLAS_ADMIN = "Provider admin: Sunbelt Occupational Medicine - Dallas"
_HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def walk_portal(tmp_path_factory):
    """Its own portal: this walk sends invitations and changes a time zone."""
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("clinic-walk"), {})




def _pick_role(page: Page, label: str) -> None:
    page.get_by_role("combobox", name="Role to give").click()
    page.keyboard.type(label)
    page.get_by_role("option", name=label).click()


def test_a_refused_invitation_keeps_what_was_typed_and_a_sent_one_empties_the_form(walk_portal,
                                                                                   context):
    page = context.new_page()
    sign_in(page, walk_portal["url"], "groupadmin@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
    form = page.get_by_test_id("stForm").filter(has_text="Send invitation")
    email = form.get_by_role("textbox", name="Email address (their user ID)")
    again = form.get_by_role("textbox", name="Email address again")
    name = form.get_by_role("textbox", name="Name", exact=True)

    # Sent with the role picker as it starts (empty): refused, and nothing typed is lost.
    email.fill("nina.new@example.test")
    again.fill("nina.new@example.test")
    name.fill("Nina New")
    form.get_by_role("button", name="Send invitation").click()
    expect(form.get_by_text("Choose the role to offer.")).to_be_visible()
    expect(email).to_have_value("nina.new@example.test")
    expect(name).to_have_value("Nina New")

    # Now with a role: sent, listed, and the form is empty for the next person.
    _pick_role(page, HOUSTON_STAFF)
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent.", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").filter(has_text="nina.new@example.test")
           ).to_have_count(1)
    expect(email).to_have_value("")
    expect(again).to_have_value("")
    expect(name).to_have_value("")
    expect(page.get_by_role("combobox", name="Role to give")).to_have_value("")

    # An admin role asks first; Cancel leaves the typed invitation to finish, not to retype.
    email.fill("omar.other@example.test")
    again.fill("omar.other@example.test")
    name.fill("Omar Other")
    _pick_role(page, DALLAS_ADMIN)
    form.get_by_role("button", name="Send invitation").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    settled(page)
    expect(email).to_have_value("omar.other@example.test")
    form.get_by_role("button", name="Send invitation").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Omar Other (omar.other@example.test) will be offered: "
                                   f"{DALLAS_ADMIN}.")
    dialog.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Invitation sent.", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").filter(has_text="omar.other@example.test")
           ).to_have_count(1)
    expect(email).to_have_value("")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_clinic_admin_ticks_two_reports_and_is_told_why_open_is_greyed(walk_portal, context):
    page = context.new_page()
    sign_in(page, walk_portal["url"], "clinicadmin@demo.test")

    # Times in the zone they chose, with its abbreviation.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="My account").click()
    page.get_by_role("combobox", name="Show times in").click()
    page.keyboard.type("America/Chicago")
    page.get_by_role("option", name="America/Chicago").click()
    expect(page.get_by_text("Times are now shown in America/Chicago.")).to_be_visible()

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    main = page.get_by_test_id("stMain")
    page.get_by_role("combobox", name="Posted").click()
    page.get_by_role("option", name="Last 60 days").click()
    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()
    box = grid_box(page)
    click_grid_row(page, 0, box)
    expect(main.get_by_role("button", name="Download 1 report", exact=True)).to_be_visible()
    expect(main.get_by_text("Open one report at a time", exact=False)).to_have_count(0)
    click_grid_row(page, 1, box)
    expect(main.get_by_role("button", name="Download 2 reports", exact=True)).to_be_visible()
    expect(main.get_by_role("button", name="Open report")).to_be_disabled()
    expect(main.get_by_text("Open one report at a time: tick just one.")).to_be_visible()

    # The download is named by their own clock (Central time), not the server's.
    main.get_by_role("button", name="Download 2 reports", exact=True).click()
    save = main.get_by_role("link", name="Save reports_")
    expect(save).to_be_visible()
    chicago = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago"))
    stamp = save.inner_text().removeprefix("Save reports_")[:13]
    assert stamp in {f"{chicago:%Y-%m-%d_%H}", f"{chicago.replace(minute=0) - _HOUR:%Y-%m-%d_%H}"}

    # Untick one: the reason goes and the one left opens, posted in Central time.
    click_grid_row(page, 1, grid_box(page))
    expect(main.get_by_role("button", name="Download 1 report", exact=True)).to_be_visible()
    expect(main.get_by_text("Open one report at a time", exact=False)).to_have_count(0)
    main.get_by_role("button", name="Open report").click()
    expect(main.get_by_role("button", name="Close report")).to_be_visible()
    expect(main.get_by_role("table").first).to_contain_text("CST")
    expect(page.get_by_test_id("stException")).to_have_count(0)
