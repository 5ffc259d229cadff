"""Sign in, see the role's screens, survive a refresh and a new tab, sign out for good."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent
from pages.common.session_cookie import COOKIE_NAME
from services.errors import SignInFailed
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def _nav_labels(page: Page) -> set[str]:
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible()
    return {text.strip() for text in nav.get_by_role("link").all_inner_texts()}


def test_session_survives_refresh_and_new_tab_and_dies_at_sign_out(portal, context):
    url = portal["url"]
    page = context.new_page()
    sign_in(page, url, "privacy@demo.test")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    assert _nav_labels(page) == {"Home", "My account", "Reports", "Roles", "HIPAA queue", "Audit trail",
                                 "Access reviews", "Accounting of disclosures"}

    page.reload()
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    second_tab = context.new_page()
    second_tab.goto(f"{url}/audit")
    expect(second_tab.get_by_role("heading", name="Audit trail")).to_be_visible()
    second_tab.close()

    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["sameSite"] == "Strict" and cookie["secure"] and len(cookie["value"]) >= 43

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()

    # An attacker who kept the old cookie gets nothing from it.
    context.add_cookies([{**cookie}])
    page.goto(f"{url}/audit")
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    expect(page.get_by_role("heading", name="Audit trail")).to_have_count(0)


def test_client_user_sees_only_client_screens(portal, context):
    page = context.new_page()
    sign_in(page, portal["url"], "employer@demo.test")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    assert _nav_labels(page) == {"Home", "Reports", "My account"}
    page.goto(f"{portal['url']}/audit")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Audit trail")).to_have_count(0)
    db = Database(portal["database_url"])
    with db.transaction(write=False) as session:
        # Screens only: other browser tests on this shared portal refuse the employer reports.
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "permission.denied", AuditEvent.actor_email == "employer@demo.test",
            AuditEvent.target_type == "screen")).all()
    db.dispose()
    assert [(e.target_type, e.target_id, e.details) for e in refused] == [
        ("screen", "audit", {"action": "review_audit"})]


def test_wrong_password_shows_the_generic_message(portal, context):
    page = context.new_page()
    sign_in(page, portal["url"], "tpa@demo.test", "not-the-password", succeeds=False)
    expect(page.get_by_test_id("stAlert").filter(has_text=SignInFailed.MESSAGE)).to_be_visible()


def test_an_unattended_screen_blanks_when_the_session_times_out(short_idle_portal, context):
    page = context.new_page()
    sign_in(page, short_idle_portal["url"], "privacy@demo.test")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    # Nobody touches the page: the idle watch must replace it with the sign-in screen.
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("signed out after a period of inactivity")).to_be_visible()


def test_signing_out_everywhere_asks_first_and_then_ends_the_other_device_too(portal, browser):
    url = portal["url"]
    laptop, phone = browser.new_context(), browser.new_context()
    try:
        page, other = laptop.new_page(), phone.new_page()
        sign_in(other, url, "manager@demo.test")
        sign_in(page, url, "manager@demo.test")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="My account").click()
        # Other walks on this portal may have left manager@ signed in elsewhere too.
        signed_in = page.get_by_text(re.compile(r"^You are signed in on \d+ devices or tabs\.$"))
        expect(signed_in).to_be_visible()
        before = signed_in.inner_text()
        assert int(before.split()[5]) >= 2
        button = page.get_by_role("button", name="Sign out everywhere")
        button.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("manager@demo.test will be signed out, this one too.")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        expect(page.get_by_text(before, exact=True)).to_be_visible()

        button.click()
        dialog.get_by_role("button", name="Sign out everywhere").click()
        expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
        expect(page.get_by_text("You were signed out on every device.")).to_be_visible()
        other.reload()
        expect(other.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    finally:
        laptop.close()
        phone.close()
