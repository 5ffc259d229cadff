"""The sign-in screen: a plain form; sign-in itself happens in services.auth."""

from __future__ import annotations

import streamlit as st

from pages.common import runtime
from services import auth
from services.errors import SignInFailed

_FAILED_KEY = "sign_in_failed"


def _submit() -> None:
    email = st.session_state.get("sign_in_email", "")
    password = st.session_state.get("sign_in_password", "")
    # The password leaves session state at once; it is used exactly as typed.
    st.session_state["sign_in_password"] = ""
    try:
        signed_in = auth.sign_in(runtime.database(), email=email, password=password)
    except SignInFailed as failed:
        st.session_state[_FAILED_KEY] = str(failed)
        return
    st.session_state.pop(_FAILED_KEY, None)
    st.session_state.pop(runtime.NOTICE_KEY, None)
    runtime.remember_session(signed_in.token)


def render() -> None:
    st.title("Sign in to ResultsDesk")
    st.caption("Occupational-health reports and results for clinics, employers, payors and TPAs.")
    notice = st.session_state.get(runtime.NOTICE_KEY)
    if notice:
        st.info(notice)
    with st.form("sign_in", enter_to_submit=True):
        st.text_input("Email address", key="sign_in_email", autocomplete="username",
                      help="Your user ID is your email address.")
        st.text_input("Password", key="sign_in_password", type="password",
                      autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", on_click=_submit)
    failed = st.session_state.get(_FAILED_KEY)
    if failed:
        st.error(failed)
    st.caption("Your account locks after three unsuccessful attempts and unlocks itself after a "
               "while. Forgot your password? Use Forgot password in the menu to get a reset link.")
