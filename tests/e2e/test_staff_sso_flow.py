"""Staff sign-in through a real OpenID provider on localhost (oidc-provider), in Chromium.

A staff member presses Staff sign-in, signs in on the provider's own page and lands on their
screens; an unknown email, an unverified one and a portal user without a staff role get the same
refusal; sign-out ends the ResultsDesk session and Streamlit's identity, so a reload shows the
sign-in screen and Staff sign-in goes back to the provider; and an identity Streamlit kept from
earlier never opens a session by itself once the ResultsDesk session has ended.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from db.engine import Database
from db.models import AuditEvent, LoginSession, User
from pages.common.session_routes import IDENTITY_COOKIES, identity_cookies_in
from services.errors import StaffSignInRefused
from services import clock
from services.identity import sessions
from tests.e2e.conftest import _chromium, seed_demo, settled, sign_in, stored
from tests.e2e.identity_provider import (
    CLIENT_USER,
    PROVIDER_PASSWORD,
    STAFF,
    STRANGER,
    UNVERIFIED,
    require_node,
    start_portal_with_provider,
)

pytestmark = pytest.mark.browser

SIGN_IN_HEADING = {"name": "Sign in to ResultsDesk"}
PROVIDER_HEADING = {"name": "Company sign-in"}


@pytest.fixture(scope="module")
def sso_portal(tmp_path_factory):
    """The demo portal with staff sign-in configured, and the provider it trusts."""
    _chromium()
    require_node()
    folder = tmp_path_factory.mktemp("staff-sso")
    database_url = f"sqlite:///{folder / 'portal.db'}"
    seed_demo(database_url, folder / "blobs")
    # Support reps must give a second factor at a password sign-in here; through the provider
    # they are not asked for ResultsDesk's (their provider asks for its own).
    settings = {"RESULTSDESK_TWO_FACTOR_ROLES": "support_rep"}
    for server, provider in start_portal_with_provider(folder, database_url, settings):
        yield {"url": server.url, "issuer": provider.issuer, "database_url": database_url,
               "log": folder / "server.log"}


def _press_staff_sign_in(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", **SIGN_IN_HEADING)).to_be_visible()
    settled(page)
    page.get_by_role("button", name="Staff sign-in").click()
    expect(page.get_by_role("heading", **PROVIDER_HEADING)).to_be_visible()


def _sign_in_at_provider(page: Page, portal: dict, username: str) -> None:
    """Fill the provider's own sign-in page; wait until the browser is back at the portal."""
    assert page.url.startswith(portal["issuer"])
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    with page.expect_navigation(url=lambda address: address.startswith(portal["url"])
                                and "/oauth2callback" not in address and "/auth/" not in address):
        page.get_by_role("button", name="Sign in").click()


def _staff_sign_in(page: Page, portal: dict, username: str = STAFF) -> None:
    _press_staff_sign_in(page, portal["url"])
    _sign_in_at_provider(page, portal, username)


def _open_sessions_of(portal: dict, email: str) -> int:
    return stored(portal, select(func.count()).select_from(LoginSession).join(User, User.id == LoginSession.user_id)
                  .where(User.email == email, LoginSession.ended_at.is_(None)))


def _staff_sign_ins(portal: dict) -> int:
    """support@demo.test's successful sign-ins through the provider in the audit trail."""
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            details = session.scalars(select(AuditEvent.details).where(
                AuditEvent.action == "sign_in", AuditEvent.outcome == "success",
                AuditEvent.actor_email == "support@demo.test"))
            return sum(1 for detail in details if detail.get("method") == "identity_provider")
    finally:
        db.dispose()


def _identity_cookies(context) -> list[str]:
    return identity_cookies_in(cookie["name"] for cookie in context.cookies())


def test_the_sign_out_route_clears_the_cookies_streamlit_names():
    from streamlit.web.server.starlette import starlette_server_config

    assert IDENTITY_COOKIES == (starlette_server_config.USER_COOKIE_NAME, starlette_server_config.TOKENS_COOKIE_NAME)
    assert identity_cookies_in(["_streamlit_user", "_streamlit_user_1", "_streamlit_user_tokens_2",
                                "_streamlit_xsrf", "_streamlit_user_x", "resultsdesk_session"]) == [
        "_streamlit_user", "_streamlit_user_1", "_streamlit_user_tokens_2"]


def test_a_staff_member_signs_in_at_the_company_provider_and_lands_on_their_screens(sso_portal, context):
    before = _open_sessions_of(sso_portal, "support@demo.test")
    signed_in_before = _staff_sign_ins(sso_portal)
    page = context.new_page()
    _staff_sign_in(page, sso_portal)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()  # a support rep's screen
    # No second factor is asked for (support reps must give one at a password sign-in here).
    expect(page.get_by_text("Sam Sutton").first).to_be_visible()
    assert _open_sessions_of(sso_portal, "support@demo.test") == before + 1
    # The ResultsDesk session is what keeps the person signed in: a reload resumes it, and the
    # provider's identity opens no second one.
    page.reload()
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    assert _open_sessions_of(sso_portal, "support@demo.test") == before + 1
    assert _staff_sign_ins(sso_portal) == signed_in_before + 1


@pytest.mark.parametrize("username", [STRANGER, UNVERIFIED, CLIENT_USER])
def test_unknown_unverified_and_non_staff_identities_get_the_same_refusal(sso_portal, browser, username):
    context = browser.new_context()
    try:
        page = context.new_page()
        _staff_sign_in(page, sso_portal, username)
        expect(page.get_by_role("heading", **SIGN_IN_HEADING)).to_be_visible()
        expect(page.get_by_test_id("stAlert").filter(has_text=StaffSignInRefused.MESSAGE)).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        assert stored(sso_portal, select(func.count()).select_from(LoginSession).where(
            LoginSession.ended_at.is_(None), LoginSession.user_id.in_(
                select(User.id).where(User.email.in_(["privacy@demo.test", "employer@demo.test"]))))) == 0
        # A reload does not ask the provider's answer again, nor sign anyone in.
        page.reload()
        expect(page.get_by_role("heading", **SIGN_IN_HEADING)).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    finally:
        context.close()


def test_sign_out_ends_both_sessions_and_staff_sign_in_goes_back_to_the_provider(sso_portal, context):
    before = _open_sessions_of(sso_portal, "support@demo.test")
    page = context.new_page()
    _staff_sign_in(page, sso_portal)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert _identity_cookies(context)
    settled(page)
    with page.expect_navigation(url=lambda address: "notice=signed-out" in address or address.endswith("/")):
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert _identity_cookies(context) == []
    assert _open_sessions_of(sso_portal, "support@demo.test") == before
    page.reload()
    expect(page.get_by_role("heading", **SIGN_IN_HEADING)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # Staff sign-in asks the provider again, whose page asks who is signing in.
    page.get_by_role("button", name="Staff sign-in").click()
    expect(page.get_by_role("heading", **PROVIDER_HEADING)).to_be_visible()
    _sign_in_at_provider(page, sso_portal, STAFF)
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users")).to_be_visible()


def test_an_identity_kept_from_earlier_opens_no_session_once_the_session_has_ended(sso_portal, context):
    page = context.new_page()
    _staff_sign_in(page, sso_portal)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # Ended elsewhere (sign-out everywhere, a timeout): Streamlit's identity cookie is still here.
    db = Database(sso_portal["database_url"])
    try:
        with db.transaction() as session:
            user_id = session.scalar(select(User.id).where(User.email == "support@demo.test"))
            sessions.end_all_for_user(session, user_id=user_id, reason="ended_by_request", now=clock.now())
    finally:
        db.dispose()
    assert _identity_cookies(context)
    page.reload()
    expect(page.get_by_role("heading", **SIGN_IN_HEADING)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(sso_portal["url"])
    expect(page.get_by_role("heading", **SIGN_IN_HEADING)).to_be_visible()
    assert _open_sessions_of(sso_portal, "support@demo.test") == 0
    # Pressing Staff sign-in is what opens a session again.
    page.get_by_role("button", name="Staff sign-in").click()
    expect(page.get_by_role("heading", **PROVIDER_HEADING)).to_be_visible()
    _sign_in_at_provider(page, sso_portal, STAFF)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert _open_sessions_of(sso_portal, "support@demo.test") == 1


def test_the_password_form_still_works_beside_staff_sign_in(sso_portal, context):
    page = context.new_page()
    sign_in(page, sso_portal["url"], "privacy@demo.test")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
