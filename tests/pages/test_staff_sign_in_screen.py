"""The Staff sign-in button and the return from the provider, driven through the real app.py.

AppTest seeds st.secrets and st.user as Streamlit would after the provider sent the browser
back; the real provider is exercised in tests/e2e/test_staff_sso_flow.py.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from pages.common import runtime
from services import clock
from services.errors import StaffSignInRefused
from tests.pages.conftest import APP, titles

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a" * 32,
        "client_id": "resultsdesk", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://login.company.test/.well-known/openid-configuration"}


def _app(auth=None, user=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    return at


def _back_from_provider(email: str, *, verified=True, nonce="n-1") -> dict:
    """st.user right after the provider's answer: the ID token's claims, issued just now."""
    return {"is_logged_in": True, "provider": "default", "iss": "https://login.company.test",
            "sub": f"idp-{email}", "aud": "resultsdesk", "iat": int(clock.now().timestamp()),
            "nonce": nonce, "email": email, "email_verified": verified}


def _has_button(at: AppTest) -> bool:
    return any(button.label == "Staff sign-in" for button in at.button)


def test_the_button_shows_only_with_a_complete_identity_provider_configuration(demo_db):
    assert not _has_button(_app().run())
    assert not _has_button(_app({k: v for k, v in AUTH.items() if k != "cookie_secret"}).run())
    assert not _has_button(_app({"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "a" * 32}).run())
    assert _has_button(_app(AUTH).run())
    named = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "a" * 32,
             "company": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}}
    assert _has_button(_app(named).run())
    assert not _has_button(_app({**named, "other": dict(named["company"])}).run())


def test_back_from_the_provider_a_staff_member_is_signed_in_and_the_cookie_handed_over(demo_db):
    at = _app(AUTH, _back_from_provider("support@demo.test")).run()
    # The first run shows the hand-off to the cookie route, as after a password sign-in.
    assert any("resultsdesk-handoff" in element.proto.body for element in at.get("html"))
    assert at.session_state[runtime.TOKEN_KEY]
    at.run()
    assert titles(at) == ["Welcome"]


def test_a_refused_identity_sees_the_one_refusal_and_a_new_tab_is_not_asked_again(demo_db):
    claims = _back_from_provider("employer@demo.test")  # a client user: no staff role
    at = _app(AUTH, claims).run()
    assert titles(at) == ["Sign in to ResultsDesk"]
    assert [error.value for error in at.error] == [StaffSignInRefused.MESSAGE]
    # The same identity cookie in a new tab: the answer was used, nothing is shown or opened.
    again = _app(AUTH, claims).run()
    assert titles(again) == ["Sign in to ResultsDesk"]
    assert list(again.error) == []
    assert runtime.TOKEN_KEY not in again.session_state


def test_without_configuration_a_kept_identity_is_ignored(demo_db):
    at = _app(user=_back_from_provider("support@demo.test")).run()
    assert titles(at) == ["Sign in to ResultsDesk"]
    assert runtime.TOKEN_KEY not in at.session_state
