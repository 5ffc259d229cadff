"""The privacy officer reads the audit trail in words: a role grant as a sentence naming the
person and the place, and the action filter by those words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from db.engine import Database
from services.identity import memberships
from services.policy import Role
from tests.conftest import principal_of
from tests.e2e.conftest import _start_portal, sign_in

pytestmark = pytest.mark.browser

_GRANTED = {}


def _grant_erin_a_second_employer(db: Database) -> None:
    admin, erin = principal_of(db, "admin@demo.test"), principal_of(db, "employer@demo.test")
    held = {link.account_id for link in erin.account_links}
    role = next(grant for _, grant in memberships.grantable(db, admin)
                if grant.role == Role.ACCOUNT_USER and grant.account_id not in held)
    memberships.grant(db, admin, user_id=erin.user_id, role=role)
    with db.transaction(write=False) as session:
        _GRANTED.update(user_id=erin.user_id, place=memberships.label(session, role).split(": ", 1)[1])


@pytest.fixture(scope="module")
def audit_portal(tmp_path_factory):
    """A portal of its own: the role granted here would change what the shared portal's
    employer sees in other browser files."""
    yield from _start_portal(tmp_path_factory.mktemp("audit-words"), {}, _grant_erin_a_second_employer)


def test_the_audit_trail_reads_in_words(audit_portal, context, tmp_path):
    page = context.new_page()
    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, audit_portal["url"], "privacy@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()

    page.get_by_role("combobox", name="Actions").click()
    page.keyboard.type("Role granted")  # the list is long and filtered by what is typed
    page.get_by_role("option", name="Role granted", exact=True).click()
    page.keyboard.press("Escape")
    sentence = (f"Role granted to Erin Ellis (user {_GRANTED['user_id']}): "
                f"Client account user at {_GRANTED['place']}")
    # The canvas grid's cells exist for assistive technology, hidden from view.
    cells = page.get_by_test_id("stDataFrame").locator("td[role=gridcell]")
    expect(cells.filter(has_text=sentence)).to_have_count(1)
    expect(cells.filter(has_text=f"Role: Client account user at {_GRANTED['place']}")).to_have_count(1)
    expect(cells.filter(has_text="user.role_granted")).to_have_count(0)
    expect(cells.filter(has_text="Sign-in")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "audit-trail.png"), full_page=True)

    # Every sign-in, this one included, reads as words with the person named.
    page.get_by_text("What a user did").click()
    page.get_by_role("textbox", name="Actor email").fill("privacy@demo.test")
    page.keyboard.press("Enter")
    expect(cells.filter(has_text="Sign-in: Priya Prakash (user ").first).to_be_attached()
    page.screenshot(path=str(tmp_path / "what-a-user-did.png"), full_page=True)
