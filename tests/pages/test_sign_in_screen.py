"""The sign-in screen and the role-based navigation, driven through the real app.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import AuditEvent, LoginSession, User
from pages import navigation
from services.demo import seed
from services.errors import SessionEnded, SignInFailed
from tests.pages.conftest import literal_texts, open_screen, screens, sign_in, titles

EVERYONE = {"", "my-account"}
STAFF_VIEW = {"reports", "roles"}
CLINIC_ADMIN = EVERYONE | {"reports", "upload", "users", "provider-groups", "access-review"}
CLIENT = EVERYONE | {"reports"}
CLINIC_STAFF = EVERYONE | {"reports", "upload"}
EXPECTED_SCREENS = {
    "admin@demo.test": EVERYONE | STAFF_VIEW | {"upload", "users", "provider-groups", "registration-codes",
                                                "client-accounts", "hipaa-queue", "audit", "dashboard", "settings",
                                                "report-types", "access-review", "access-reviews",
                                                "disclosures"},
    "support@demo.test": EVERYONE | STAFF_VIEW | {"users", "provider-groups", "registration-codes",
                                                  "hipaa-queue", "dashboard", "access-review"},
    "accounts@demo.test": EVERYONE | STAFF_VIEW | {"users", "client-accounts", "dashboard", "access-review"},
    "privacy@demo.test": EVERYONE | STAFF_VIEW | {"hipaa-queue", "audit", "access-reviews",
                                                  "disclosures"},
    "manager@demo.test": EVERYONE | {"dashboard"},
    "groupadmin@demo.test": CLINIC_ADMIN,
    "clinicadmin@demo.test": CLINIC_ADMIN,
    "clinic@demo.test": CLINIC_STAFF,
    "employer@demo.test": CLIENT,
    "payor@demo.test": CLIENT,
    "tpa@demo.test": CLIENT,
}


def _audit(db, action):
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_signed_out_visitors_get_only_the_public_screens(app):
    assert titles(app) == ["Sign in to ResultsDesk"]
    public = {"", "forgot-password", "register", "accept-invitation", "reset-password",
              "confirm-email"}
    # Every signed-in screen's address answers with the sign-in form (an emailed link, a bookmark).
    signed_in = {screen.url_path for screen in navigation.SCREENS} - {"home"}
    assert screens(app) == public | signed_in
    for address in signed_in:
        assert titles(open_screen(app, address)) == ["Sign in to ResultsDesk"]


@pytest.mark.parametrize("email", sorted(EXPECTED_SCREENS))
def test_each_demo_login_sees_exactly_its_roles_screens(app, email):
    sign_in(app, email)
    assert not app.exception
    assert titles(app)[0] == "Welcome"
    # Plus the hidden pages emailed links open: accepting an invitation and confirming a new
    # email address, signed in.
    assert screens(app) == EXPECTED_SCREENS[email] | {"accept-invitation", "confirm-email"}


def test_a_screen_outside_the_role_cannot_be_reached_by_url(app):
    sign_in(app, "employer@demo.test")
    open_screen(app, "audit")
    assert titles(app)[0] == "Welcome"
    assert "Audit trail" not in titles(app)


def test_wrong_password_and_locked_account_read_the_same(app, demo_db):
    for attempt in range(3):
        sign_in(app, "clinic@demo.test", f"Wrong-Password-{attempt}")
        assert [e.value for e in app.error] == [SignInFailed.MESSAGE]
    sign_in(app, "clinic@demo.test")  # the right password, but the account is now locked
    assert [e.value for e in app.error] == [SignInFailed.MESSAGE]
    assert titles(app) == ["Sign in to ResultsDesk"]
    failures = [e for e in _audit(demo_db, "sign_in") if e.outcome == "failure"]
    assert [e.details["reason"] for e in failures] == ["bad_password"] * 3 + ["locked"]
    assert len(_audit(demo_db, "user.locked")) == 1


def test_a_successful_sign_in_hands_the_browser_a_self_posting_code_form(demo_db):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="sign_in_email").input("manager@demo.test")
    at.text_input(key="sign_in_password").input("wrong")
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert not _handoff_forms(at)  # a failure hands over nothing
    at.text_input(key="sign_in_password").input(seed.DEMO_PASSWORD)
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    [form] = _handoff_forms(at)  # the code travels in a posted form, never in the address
    assert 'method="post" action="/auth/session"' in form and 'name="code"' in form
    assert titles(at) == []  # nothing else is drawn before the browser has its cookie
    at.run()  # this tab itself is signed in already
    assert titles(at)[0] == "Welcome"
    assert not _handoff_forms(at)  # one hand-off per sign-in
    assert 'action="/auth/sign-out"' in "".join(_html(at))


def test_the_sign_in_screen_says_why_it_is_shown_after_a_redirect(demo_db):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    for notice, text in (("signed-out", "You have signed out."),
                         ("sign-in-expired", "That sign-in link has expired or was already used.")):
        at = AppTest.from_file(APP, default_timeout=30)
        at.query_params["notice"] = notice
        at.run()
        assert titles(at) == ["Sign in to ResultsDesk"]
        assert [i.value for i in at.info][0].startswith(text)


def _html(at):
    return [element.proto.body for element in at.get("html")]


def _handoff_forms(at):
    return [body for body in _html(at) if "/auth/session" in body]


def test_fifteen_idle_minutes_sign_the_user_out(app, fake_clock_app):
    sign_in(app, "manager@demo.test")
    fake_clock_app.advance(minutes=14)
    app.run()
    assert titles(app)[0] == "Welcome"
    fake_clock_app.advance(minutes=15)
    app.run()
    assert titles(app) == ["Sign in to ResultsDesk"]
    assert [i.value for i in app.info] == [SessionEnded.MESSAGES["idle"]]


def test_signing_out_everywhere_asks_first_and_cancel_keeps_every_session(app, demo_db):
    sign_in(app, "manager@demo.test")
    open_screen(app, "my-account")
    app.button(key="my_account_sign_out_everywhere").click().run()
    assert any("manager@demo.test will be signed out, this one too." in body
               for body in literal_texts(app))
    app.button(key="confirm_cancel").click().run()
    assert titles(app)[0] == "My account"
    assert _open_sessions(demo_db, "manager@demo.test") == 1

    app.button(key="my_account_sign_out_everywhere").click().run()
    app.button(key="confirm_yes").click().run()
    assert titles(app) == ["Sign in to ResultsDesk"]
    assert [i.value for i in app.info] == ["You were signed out on every device."]
    assert _open_sessions(demo_db, "manager@demo.test") == 0


def _open_sessions(db, email: str) -> int:
    with db.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        return len(session.scalars(select(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))).all())
