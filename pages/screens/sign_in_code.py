"""The second step of sign-in: the code from the authenticator app, or setting the app up first
when the person's role requires it. Shown by the sign-in screen while a step is open."""

from __future__ import annotations

import streamlit as st

from pages.common import runtime, session_cookie
from pages.screens import two_factor_parts
from services.errors import DomainError
from services.identity import auth
from services.identity.two_factor import ChallengeEnded, SecondStep

# Session state: the open step ({"challenge", "step", "remember"}), its last error, the code
# field, the recovery codes shown once after setting up, and their "saved" tick.
STEP_KEY = "sign_in_second_step"
_ERROR_KEY = "sign_in_code_error"
_CODE_KEY = "sign_in_code"
_CODES_KEY = "sign_in_recovery_codes"
_SAVED_KEY = "sign_in_codes_saved"


def begin(step: SecondStep, *, remember: str | None) -> None:
    st.session_state[STEP_KEY] = {"challenge": step.challenge, "step": step.step,
                                  "remember": remember}
    st.session_state.pop(_ERROR_KEY, None)


def is_open() -> bool:
    return STEP_KEY in st.session_state


def _start_again(notice: str | None = None) -> None:
    for key in (STEP_KEY, _ERROR_KEY, _CODE_KEY, _CODES_KEY, _SAVED_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[runtime.NOTICE_KEY] = notice


def _signed_in(signed_in: auth.SignedIn, remember: str | None) -> None:
    _start_again()
    st.session_state.pop(runtime.NOTICE_KEY, None)
    runtime.remember_session(signed_in.token)
    session_cookie.schedule_handoff(signed_in.handoff_code, remember_email=remember)


def _submit_code(client_address: str | None) -> None:
    step = st.session_state[STEP_KEY]
    code = st.session_state.get(_CODE_KEY, "")
    st.session_state[_CODE_KEY] = ""
    try:
        if step["step"] == "code":
            signed_in = auth.finish_with_code(runtime.database(), challenge=step["challenge"],
                                              code=code, client_address=client_address)
        else:
            st.session_state[_CODES_KEY] = auth.confirm_enrolment(
                runtime.database(), challenge=step["challenge"], code=code,
                client_address=client_address)
            step["step"] = "enrolled"
            st.session_state.pop(_ERROR_KEY, None)
            return
    except ChallengeEnded as ended:
        _start_again(str(ended))
        return
    except auth.SecondFactorFailed as failed:
        if failed.ended:
            _start_again(str(failed))
        else:
            st.session_state[_ERROR_KEY] = str(failed)
        return
    except DomainError as refused:  # the address limit, for one
        _start_again(str(refused))
        return
    _signed_in(signed_in, step["remember"])


def _enter() -> None:
    step = st.session_state[STEP_KEY]
    try:
        signed_in = auth.enter_after_enrolment(runtime.database(), challenge=step["challenge"])
    except DomainError as ended:
        _start_again(str(ended))
        return
    _signed_in(signed_in, step["remember"])


def render(client_address: str | None) -> None:
    step = st.session_state[STEP_KEY]
    if step["step"] == "enrolled":
        _recovery_codes()
        return
    if step["step"] == "enrol":
        st.title("Set up two-factor sign-in")
        st.write("Your role requires a second step at sign-in: a code from an app on your phone. "
                 "Set it up once now; it takes a minute.")
        try:
            two_factor_parts.show_enrolment(auth.enrolment(runtime.database(),
                                                           challenge=step["challenge"]))
        except ChallengeEnded as ended:
            _start_again(str(ended))
            st.rerun()
        label = "Code from the app"
    else:
        st.title("Enter your code")
        st.write("Open your authenticator app and type the 6-digit code it shows for ResultsDesk.")
        label = "Code from your authenticator app"
    with st.form("sign_in_code_form", enter_to_submit=True):
        st.text_input(label, key=_CODE_KEY, max_chars=24, autocomplete="one-time-code")
        st.form_submit_button("Continue", type="primary", on_click=_submit_code,
                              args=(client_address,))
    error = st.session_state.get(_ERROR_KEY)
    if error:
        st.error(error)
    if step["step"] == "code":
        st.caption("Lost your phone? Type one of your recovery codes instead. No codes left? "
                   "Call support: they can reset your two-factor sign-in.")
    st.button("Start again", key="sign_in_code_start_again", on_click=_start_again,
              help="Back to the email address and password.")


def _recovery_codes() -> None:
    st.title("Save your recovery codes")
    st.success("Two-factor sign-in is on. From now on you sign in with your password and a code "
               "from the app.")
    two_factor_parts.show_recovery_codes(st.session_state.get(_CODES_KEY, []), file_stem="resultsdesk")
    saved = st.checkbox("I have saved my recovery codes", key=_SAVED_KEY)
    st.button("Continue to ResultsDesk", type="primary", disabled=not saved, on_click=_enter,
              key="sign_in_codes_continue")
