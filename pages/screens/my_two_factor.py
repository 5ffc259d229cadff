"""My account's two-factor section: turn it on with an authenticator app, make new recovery
codes, or turn it off where no role requires it."""

from __future__ import annotations

import streamlit as st

from pages.common import runtime
from pages.common.actions import run_action, show_message
from pages.screens import two_factor_parts
from services.identity import two_factor
from services.principals import Principal

# Session state: codes to show once, the code fields, and this section's message.
_CODES_KEY = "my_2fa_codes"
_CONFIRM_KEY = "my_2fa_confirm_code"
_PROVE_KEY = "my_2fa_prove_code"
_MESSAGE_KEY = "my_2fa_message"


def _start() -> None:
    run_action(lambda principal: two_factor.start_own(runtime.database(), principal),
               message_key=_MESSAGE_KEY)


def _new_codes_from(service, field_key: str) -> None:
    """Call a service that returns recovery codes, proved with the code typed in field_key; the
    codes are shown once on the next run."""
    code = st.session_state.pop(field_key, "")
    done = run_action(lambda principal: service(runtime.database(), principal, code=code),
                      message_key=_MESSAGE_KEY)
    if done is not None:
        st.session_state[_CODES_KEY] = done.result


def _turn_off() -> None:
    code = st.session_state.pop(_PROVE_KEY, "")
    run_action(lambda principal: two_factor.turn_off_own(runtime.database(), principal, code=code),
               success="Two-factor sign-in is off.", message_key=_MESSAGE_KEY)


def render(principal: Principal) -> None:
    st.header("Two-factor sign-in")
    show_message(_MESSAGE_KEY)
    codes = st.session_state.pop(_CODES_KEY, None)
    if codes:
        two_factor_parts.show_recovery_codes(codes, file_stem="resultsdesk")
    now = two_factor.status(runtime.database(), principal)
    if now.enrolled:
        _enrolled(now)
        return
    st.caption("Off. " + ("Your role requires it: you set it up at your next sign-in."
                          if now.required else
                          "Turn it on to sign in with your password and a code from an app on "
                          "your phone."))
    pending = now.pending
    if pending is None:
        st.button("Turn on two-factor sign-in", key="my_2fa_start", on_click=_start)
        return
    two_factor_parts.show_enrolment(pending)
    with st.form("my_2fa_confirm", clear_on_submit=True):
        st.text_input("Code from the app", key=_CONFIRM_KEY, max_chars=6,
                      autocomplete="one-time-code")
        st.form_submit_button("Turn on", type="primary", on_click=_new_codes_from,
                              args=(two_factor.confirm_own, _CONFIRM_KEY))


def _enrolled(now: two_factor.Status) -> None:
    st.caption(f"On: you sign in with your password and a code from your authenticator app. "
               f"Recovery codes left: {now.recovery_codes_left} of "
               f"{two_factor.RECOVERY_CODE_COUNT}.")
    with st.form("my_2fa_prove", clear_on_submit=True):
        st.text_input("A code from your app (or a recovery code)", key=_PROVE_KEY, max_chars=24,
                      autocomplete="one-time-code",
                      help="New codes replace all your old ones.")
        left, right = st.columns(2)
        left.form_submit_button("Make new recovery codes", on_click=_new_codes_from,
                                args=(two_factor.new_codes_own, _PROVE_KEY))
        right.form_submit_button("Turn off two-factor sign-in", on_click=_turn_off,
                                 disabled=now.required,
                                 help="Your role requires it, so it stays on." if now.required
                                 else "You will sign in with your password alone.")
