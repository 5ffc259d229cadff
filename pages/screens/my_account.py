"""My account: profile, roles and the user's own sessions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from services.identity import password_policy, password_reset, sessions, users
from services.policy import Action
from services.principals import Principal
from services.reports import notices

# Session state: the result-notices switch.
_NOTICES_KEY = "my_account_notices"


def _sign_out_everywhere() -> None:
    if run_action(lambda principal: users.end_sessions(runtime.database(), principal,
                                                       user_id=principal.user_id)):
        runtime.forget_session(st.session_state.get(runtime.TOKEN_KEY))
        st.session_state[runtime.NOTICE_KEY] = "You were signed out on every device."


def _notices_changed() -> None:
    run_action(lambda principal: notices.set_result_notices(
        runtime.database(), principal, enabled=st.session_state[_NOTICES_KEY]))


def _notices(principal: Principal) -> None:
    st.subheader("Email notices")
    st.toggle("Email me when new reports arrive", key=_NOTICES_KEY,
              value=notices.result_notices_enabled(runtime.database(), principal),
              on_change=_notices_changed,
              help="At most one email per notice run, saying how many new reports you have. "
                   "It never contains patient details.")


def _password() -> None:
    st.subheader("Password")
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input("Current password", type="password", key="pw_current")
        new = st.text_input("New password", type="password", key="pw_new",
                            help="Your password needs: " + "; ".join(password_policy.help_text()) + ".")
        if st.form_submit_button("Change password"):
            run_action(lambda principal: password_reset.change_password(
                runtime.database(), principal, current=current, new=new),
                success="Password changed. Your other sessions were signed out.")


def render(principal: Principal) -> None:
    components.guard(principal, None)
    st.title("My account")
    components.literal(f"Name: {principal.name}")
    components.literal(f"User ID (email): {principal.email}")
    components.literal("Roles: " + ("; ".join(components.role_labels(principal)) or "none"))
    if principal.can(Action.VIEW_REPORTS):
        _notices(principal)
    _password()
    st.subheader("Sessions")
    opened = sessions.open_sessions(runtime.database(), principal)
    count = len(opened)
    st.write(f"You are signed in on {count} {'device or tab' if count == 1 else 'devices or tabs'}.")
    st.dataframe(pd.DataFrame([{"Signed in": components.utc(started), "Last active": components.utc(seen),
                                "": "this one" if this else ""} for started, seen, this in opened]),
                 hide_index=True)
    st.button("Sign out everywhere", on_click=_sign_out_everywhere)
