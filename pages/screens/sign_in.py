"""The sign-in screen: a plain form; sign-in itself happens in services.identity.auth."""

from __future__ import annotations

import streamlit as st

from pages.common import components, runtime, session_cookie
from pages.screens import sign_in_code, staff_sign_in
from services import settings
from services.errors import HandoffRefused, SignInFailed
from services.identity import auth, sign_in_limits
from services.identity.two_factor import SecondStep
from services.mail import addresses, support_contact
from services.wording import count, period

# Session state: this screen's page (navigation keeps it here for the links of the other
# signed-out screens), why the last try failed, and the form's two fields.
SIGN_IN_PAGE_KEY = "sign_in_page"
_FAILED_KEY = "sign_in_failed"
_EMAIL_KEY = "sign_in_email"
_PASSWORD_KEY = "sign_in_password"
_REMEMBER_KEY = "sign_in_remember"
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
        result = auth.sign_in(runtime.database(), email=email, password=password,
                              client_address=_client_address())
    except SignInFailed as failed:
        st.session_state[_FAILED_KEY] = str(failed)
        return
    st.session_state.pop(_FAILED_KEY, None)
    st.session_state.pop(runtime.NOTICE_KEY, None)
    remember = (session_cookie.encode_email(addresses.normalise(email))
                if st.session_state.get(_REMEMBER_KEY) else session_cookie.FORGET)
    if isinstance(result, SecondStep):
        sign_in_code.begin(result, remember=remember)
        return
    # This tab is signed in at once; the browser then collects its HttpOnly cookie.
    runtime.remember_session(result.token)
    session_cookie.schedule_handoff(result.handoff_code, remember_email=remember)


def _fill_remembered_email() -> None:
    """Once per visit: the address "Remember me" kept on this device, ticked again."""
    if _EMAIL_KEY in st.session_state:
        return
    remembered = session_cookie.remembered_email()
    st.session_state[_EMAIL_KEY] = remembered or ""
    st.session_state[_REMEMBER_KEY] = remembered is not None


def render() -> None:
    _notice_from_address()
    if sign_in_code.is_open():
        sign_in_code.render(_client_address())
        return
    st.title("Sign in to ResultsDesk")
    st.caption("Occupational-health reports for clinics, employers, payors and TPAs.")
    notice = st.session_state.get(runtime.NOTICE_KEY)
    if notice:
        st.info(notice)
    _fill_remembered_email()
    with st.form("sign_in", enter_to_submit=True):
        st.text_input("Email address", key=_EMAIL_KEY, autocomplete="username",
                      help="Your user ID is your email address.")
        st.text_input("Password", key=_PASSWORD_KEY, type="password",
                      autocomplete="current-password")
        st.checkbox("Remember me", key=_REMEMBER_KEY,
                    help="Keeps only your email address on this device for the next sign-in. "
                         "You always type your password, and sessions end as usual.")
        st.form_submit_button("Sign in", type="primary", on_click=_submit)
    staff_sign_in.render_button()
    failed = st.session_state.get(_FAILED_KEY)
    if failed:
        st.error(failed)
    attempts = count(settings.current().failed_attempts_before_lock)
    st.caption(f"Your account locks after {attempts} unsuccessful attempts and unlocks itself after a "
               "while. Forgot your password? Use Forgot password in the menu to get a reset link.")
    _help(attempts)


def _help(attempts: str) -> None:
    """Support's contact details, and what to do when signing in does not work."""
    contact = support_contact.contact(runtime.database())
    # Set by an admin on the Settings screen: shown literally, never as Markdown.
    components.literal(f"Support: {contact.support_phone} ({contact.support_hours}), "
                       f"{contact.support_email}", tag="small")
    with st.expander("Having trouble signing in?"):
        limits = settings.current()
        reset = period(limits.password_reset_lifetime, "hours", spelled=True)
        lock = period(limits.lockout_period, "minutes")
        st.markdown(
            f"- **Your user ID is your email address.** If it changed, support sends a link to "
            f"the new address; it works once you confirm it.\n"
            f"- **Locked out?** After {attempts} unsuccessful attempts in a row your account locks "
            f"for {lock}. It unlocks by itself; support can unlock it sooner.\n"
            f"- **Forgot your password?** Use Forgot password in the menu: a reset link goes to "
            f"your email address and works once, for {reset}. Support can also send you one.\n"
            f"- **Lost the phone with your authenticator app?** Type one of your recovery codes "
            f"where the code is asked for. No codes left? Support can reset your two-factor "
            f"sign-in; you set it up again at your next sign-in.\n"
            f"- **Still stuck?** Call support:")
        components.literal(f"{contact.support_phone}, {contact.support_hours}. Email: "
                           f"{contact.support_email}. Received information in error? HIPAA "
                           f"hotline: {contact.hipaa_hotline}.")
