"""My account: profile, roles and the user's own sessions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from pages.screens import my_two_factor
from services import time_zones
from services.identity import password_policy, password_reset, sessions, time_zone, users
from services.policy import Action
from services.principals import Principal
from services.reports import notices

# Session state: the result-notices switch.
_NOTICES_KEY = "my_account_notices"
# Session state: the time zone picker.
_TIME_ZONE_KEY = "my_account_time_zone"
_TIME_ZONE_MESSAGE_KEY = "my_account_time_zone_message"


def _sign_out_everywhere() -> None:
    if run_action(lambda principal: users.end_sessions(runtime.database(), principal,
                                                       user_id=principal.user_id)):
        runtime.forget_session(st.session_state.get(runtime.TOKEN_KEY))
        st.session_state[runtime.NOTICE_KEY] = "You were signed out on every device."


def _notices_changed() -> None:
    run_action(lambda principal: notices.set_result_notices(
        runtime.database(), principal, enabled=st.session_state[_NOTICES_KEY]))


def _notices(principal: Principal) -> None:
    st.header("Email notices")
    stored = notices.result_notices_enabled(runtime.database(), principal)
    # The switch shows what is stored: support may have changed it for you since this tab
    # last drew it.
    if st.session_state.get(_NOTICES_KEY) not in (None, stored):
        st.session_state.pop(_NOTICES_KEY)
    st.caption(f"New-result emails are {'on' if stored else 'off'}. Support can also switch "
               "them for you when you call.")
    st.toggle("Email me when new reports arrive", key=_NOTICES_KEY, value=stored,
              on_change=_notices_changed,
              help="At most one email per notice run, saying how many new reports you have. "
                   "It never contains patient details.")


def _time_zone_changed() -> None:
    run_action(lambda principal: time_zone.set_time_zone(
        runtime.database(), principal, user_id=principal.user_id,
        time_zone=st.session_state[_TIME_ZONE_KEY]),
        success=lambda name: f"Times are now shown in {name}.", message_key=_TIME_ZONE_MESSAGE_KEY)


def _time_zone(principal: Principal) -> None:
    st.header("Time zone")
    options = time_zones.choices()
    stored = time_zones.checked(principal.time_zone) or time_zones.UTC_NAME
    # The picker shows what is stored: a change made in another tab, or one refused, wins over
    # the value the widget kept from before.
    if st.session_state.get(_TIME_ZONE_KEY) not in (None, stored):
        st.session_state.pop(_TIME_ZONE_KEY)
    st.selectbox("Show times in", options, index=options.index(stored), key=_TIME_ZONE_KEY,
                 on_change=_time_zone_changed,
                 help="Times on every screen are shown in this zone, with its abbreviation "
                      "(CST, CDT, ...). Type to search; the common US zones come first.")
    show_message(_TIME_ZONE_MESSAGE_KEY)


def _password() -> None:
    st.header("Password")
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
    confirm.show_pending()
    st.title("My account")
    components.literal(f"Name: {principal.name}")
    components.literal(f"User ID (email): {principal.email}")
    components.literal("Roles: " + ("; ".join(components.role_labels(principal)) or "none"))
    if principal.can(Action.VIEW_REPORTS):
        _notices(principal)
    _time_zone(principal)
    _password()
    my_two_factor.render(principal)
    st.header("Sessions")
    opened = sessions.open_sessions(runtime.database(), principal)
    count = len(opened)
    st.write(f"You are signed in on {count} {'device or tab' if count == 1 else 'devices or tabs'}.")
    st.dataframe(pd.DataFrame([{"Signed in": components.local_time(started, principal),
                                "Last active": components.local_time(seen, principal),
                                "": "this one" if this else ""} for started, seen, this in opened]),
                 hide_index=True)
    # Ends this tab's session too, and any unsaved work in the others: asked first.
    st.button("Sign out everywhere", key="my_account_sign_out_everywhere", on_click=confirm.ask,
              args=(confirm.Question(
                  title="Sign out everywhere?", confirm="Sign out everywhere",
                  act=_sign_out_everywhere,
                  lines=(f"Every device and tab signed in as {principal.email} will be signed "
                         "out, this one too.", "Anything not yet saved in them is lost.")),))
