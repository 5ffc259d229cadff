"""The sign-in screen: a plain form; sign-in itself happens in services.identity.auth."""

from __future__ import annotations

import streamlit as st

from pages.common import runtime, session_cookie
from services import settings
from services.errors import HandoffRefused, SignInFailed
from services.identity import auth, sign_in_limits
from services.wording import count

# Session state: this screen's page (navigation keeps it here for the links of the other
# signed-out screens), why the last try failed, and the form's two fields.
SIGN_IN_PAGE_KEY = "sign_in_page"
_FAILED_KEY = "sign_in_failed"
_EMAIL_KEY = "sign_in_email"
_PASSWORD_KEY = "sign_in_password"
# Set by the session routes' redirects (pages/common/session_routes.py).
_NOTICES = {"signed-out": "You have signed out.", "sign-in-expired": HandoffRefused.MESSAGE}


def _client_address() -> str:
    header = settings.current().trusted_proxy_header
    forwarded = st.context.headers.get_all(header) if header else []
    peer = st.context.ip_address
    # Only a string is an address (AppTest, for one, has no real connection).
    return sign_in_limits.client_address(peer=peer if isinstance(peer, str) else None,
                                         forwarded=[f for f in forwarded if isinstance(f, str)])


def _notice_from_address() -> None:
    notice = _NOTICES.get(st.query_params.get("notice", ""))
    if notice:
        st.session_state[runtime.NOTICE_KEY] = notice
        del st.query_params["notice"]


def _submit() -> None:
    email = st.session_state.get(_EMAIL_KEY, "")
    password = st.session_state.get(_PASSWORD_KEY, "")
    # The password leaves session state at once; it is used exactly as typed.
    st.session_state[_PASSWORD_KEY] = ""
    try:
        signed_in = auth.sign_in(runtime.database(), email=email, password=password,
                                 client_address=_client_address())
    except SignInFailed as failed:
        st.session_state[_FAILED_KEY] = str(failed)
        return
    st.session_state.pop(_FAILED_KEY, None)
    st.session_state.pop(runtime.NOTICE_KEY, None)
    # This tab is signed in at once; the browser then collects its HttpOnly cookie.
    runtime.remember_session(signed_in.token)
    session_cookie.schedule_handoff(signed_in.handoff_code)


def render() -> None:
    _notice_from_address()
    st.title("Sign in to ResultsDesk")
    st.caption("Occupational-health reports for clinics, employers, payors and TPAs.")
    notice = st.session_state.get(runtime.NOTICE_KEY)
    if notice:
        st.info(notice)
    with st.form("sign_in", enter_to_submit=True):
        st.text_input("Email address", key=_EMAIL_KEY, autocomplete="username",
                      help="Your user ID is your email address.")
        st.text_input("Password", key=_PASSWORD_KEY, type="password",
                      autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", on_click=_submit)
    failed = st.session_state.get(_FAILED_KEY)
    if failed:
        st.error(failed)
    attempts = count(settings.current().failed_attempts_before_lock)
    st.caption(f"Your account locks after {attempts} unsuccessful attempts and unlocks itself after a "
               "while. Forgot your password? Use Forgot password in the menu to get a reset link.")
