"""A provider group admin administers a colleague on the Users screen: the invite form gives
nothing until a role is chosen, an admin role is given only after a question and shows in the
list at once, and deactivating asks first (Cancel leaves the person as they were)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Membership, RoleInvitation, User
from tests.e2e.conftest import settled, sign_in

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35
DALLAS_ADMIN = "Provider admin: Sunbelt Occupational Medicine - Dallas"


def _person(database_url: str, address: str) -> tuple[str, list[str], int]:
    """Status, provider roles, and the number of invitations anyone has sent."""
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.email == address))
            roles = sorted(session.scalars(select(Membership.role).where(Membership.user_id == user.id)))
            invitations = len(session.scalars(select(RoleInvitation.id)).all())
            return user.status, roles, invitations
    finally:
        db.dispose()




def _tick_first_row(page: Page) -> None:
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    settled(page)
    box = grid.bounding_box()
    # The grid is a canvas: its row checkboxes are reached by position.
    page.mouse.click(box["x"] + 14, box["y"] + ROW_HEIGHT * 1.5)


def _invite(page: Page, address: str, name: str) -> None:
    form = page.get_by_test_id("stForm").filter(has_text="Send invitation")
    form.get_by_role("textbox", name="Email address (their user ID)").fill(address)
    form.get_by_role("textbox", name="Email address again").fill(address)
    form.get_by_role("textbox", name="Name", exact=True).fill(name)
    form.get_by_role("combobox", name="Role to give").click()
    page.keyboard.type("Provider admin: Sunbelt Occupational Medicine - Dallas")
    page.get_by_role("option", name=DALLAS_ADMIN).click()
    form.get_by_role("button", name="Send invitation").click()


def test_group_admin_invites_gives_an_admin_role_and_deactivates(portal, context):
    url, database_url = portal["url"], portal["database_url"]
    page = context.new_page()
    sign_in(page, url, "groupadmin@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    _, _, invitations_before = _person(database_url, "clinic@demo.test")

    # The invite form offers no role until one is chosen, and Send refuses without one.
    role_box = page.get_by_role("combobox", name="Role to give")
    expect(role_box).to_have_value("")
    expect(role_box).to_have_attribute("placeholder", "Choose a role and where it applies")
    page.get_by_role("textbox", name="Email address (their user ID)").fill("newcomer@example.test")
    page.get_by_role("textbox", name="Email address again").fill("newcomer@example.test")
    page.get_by_role("textbox", name="Name", exact=True).fill("Nia Newcomer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Choose the role to offer.")).to_be_visible()
    assert _person(database_url, "clinic@demo.test")[2] == invitations_before

    # One person in the list, then their panel.
    page.get_by_role("textbox", name="Email or name contains").fill("clinic@")
    page.get_by_role("button", name="Show people").click()
    settled(page)
    _tick_first_row(page)
    panel = page.get_by_role("heading", name="Chris Chen (clinic@demo.test), active")
    expect(panel).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).not_to_contain_text("Provider admin")

    # Add a role: empty at first; an admin role asks before it is given.
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_disabled()
    page.get_by_role("combobox", name="Add a role").click()
    page.keyboard.type("Provider admin: Sunbelt Occupational Medicine - Dallas")
    page.get_by_role("option", name=DALLAS_ADMIN).click()
    page.get_by_role("button", name="Add", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Chris Chen (clinic@demo.test) will get: {DALLAS_ADMIN}.")
    dialog.get_by_role("button", name="Give the role").click()
    expect(page.get_by_text("Role added: done.")).to_be_visible()
    assert _person(database_url, "clinic@demo.test")[1] == ["provider_admin", "provider_staff"]
    # The same run shows it: the list's Roles column, the panel's roles, an empty picker again.
    expect(grid).to_contain_text("Provider admin")
    expect(page.get_by_text(DALLAS_ADMIN, exact=True).first).to_be_visible()
    expect(page.get_by_role("combobox", name="Add a role")).to_have_value("")

    # Removing a role asks first, naming whom and which role; Cancel keeps it.
    dallas_row = page.get_by_test_id("stHorizontalBlock").filter(has_text=DALLAS_ADMIN).last
    dallas_row.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Chris Chen (clinic@demo.test) will lose: {DALLAS_ADMIN}.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    settled(page)
    assert _person(database_url, "clinic@demo.test")[1] == ["provider_admin", "provider_staff"]
    dallas_row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove the role").click()
    expect(page.get_by_text("Role removed: done.")).to_be_visible()
    assert _person(database_url, "clinic@demo.test")[1] == ["provider_staff"]
    expect(grid).not_to_contain_text("Provider admin")
    expect(page.get_by_text(DALLAS_ADMIN, exact=True)).to_have_count(0)

    # Inviting someone with an admin role asks first; Cancel sends nothing.
    _invite(page, "sol.second@example.test", "Sol Second")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Sol Second (sol.second@example.test) will be offered: "
                                   f"{DALLAS_ADMIN}.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    settled(page)
    assert _person(database_url, "clinic@demo.test")[2] == invitations_before
    _invite(page, "sol.second@example.test", "Sol Second")
    page.get_by_role("dialog").get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Invitation sent.", exact=False)).to_be_visible()
    assert _person(database_url, "clinic@demo.test")[2] == invitations_before + 1
    expect(page.get_by_test_id("stDataFrame").filter(has_text="sol.second@example.test")
           ).to_have_count(1)

    # Deactivate asks first; Cancel changes nothing, Deactivate does it.
    page.get_by_role("button", name="Deactivate", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Deactivate Chris Chen (clinic@demo.test)?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    settled(page)
    assert _person(database_url, "clinic@demo.test")[0] == "active"
    page.get_by_role("button", name="Deactivate", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Deactivate: done.")).to_be_visible()
    expect(page.get_by_role("heading", name="Chris Chen (clinic@demo.test), deactivated")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    assert _person(database_url, "clinic@demo.test")[0] == "deactivated"
