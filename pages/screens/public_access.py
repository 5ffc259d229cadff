"""Screens for people who are not signed in: register a provider group, accept an invitation,
forgot password, reset password, confirm a new email address. None of them signs anyone in:
they lead to the sign-in screen."""

from __future__ import annotations

import streamlit as st

from pages.common import components, runtime
from pages.common.actions import attempt, run_action, show_message
from pages.screens.sign_in import SIGN_IN_PAGE_KEY
from services.identity import (
    invitations,
    password_policy,
    password_reset,
    role_invitations,
    support_tools,
    terms,
)
from services.identity.tokens import InvalidToken
from services.principals import Principal
from services.organizations import registration

# Session state: what a finished form says (the form is not shown again), the answer to an
# invitation opened while signed in, and the answer to a reset-link request.
_DONE_KEY = "public_done"
_SIGNED_IN_KEY = "invitation_answer"
_FORGOT_KEY = "forgot_answer"

_RESET_LINK_GONE = ("This reset link is not valid any more. Ask for a new one with "
                    "'Forgot password'.")


def _policy_help() -> str:
    return "Your password needs: " + "; ".join(password_policy.help_text()) + "."


def _terms(key: str) -> bool:
    current = terms.current(runtime.database())
    with st.expander(f"Terms of use (version {current.version})", expanded=False):
        st.text(current.text)
    return st.checkbox("I have read and accept the terms of use", key=key)


def _done() -> bool:
    message = st.session_state.get(_DONE_KEY)
    if message:
        st.success(message[1])  # a declined link's refusal too, as it always was
        st.page_link(st.session_state[SIGN_IN_PAGE_KEY], label="Go to sign in")
    return bool(message)


def _finish(text: str) -> None:
    """A form went through: say so in place of the form, with the way to sign in."""
    st.session_state[_DONE_KEY] = ("success", text)
    st.rerun()


def register() -> None:
    st.title("Register your provider group")
    st.caption("For the first person of a facility. Support gives you a registration code for "
               "your facility's NPI; later colleagues are invited by you.")
    if _done():
        return
    with st.form("register"):
        left, right = st.columns(2)
        number = left.text_input("Facility NPI (10 digits)", key="reg_npi", max_chars=10)
        code = right.text_input("Registration code", key="reg_code", max_chars=30)
        email = left.text_input("Email address (your user ID)", key="reg_email")
        name = right.text_input("Your name", key="reg_name")
        phone = left.text_input("Phone", key="reg_phone")
        password = right.text_input("Password", type="password", key="reg_password",
                                    help=_policy_help())
        accepted = _terms("reg_terms")
        if st.form_submit_button("Register", type="primary") and attempt(
                lambda: registration.register(runtime.database(), npi_number=number, code=code,
                                              email=email, name=name, phone=phone,
                                              password=password, accept_terms=accepted)):
            _finish("Your provider group is registered and you are its administrator. Sign in "
                    "with your email address.")


def _offer(token: str) -> role_invitations.InvitationOffer | None:
    """The invitation behind the link, or None after showing why there is none."""
    try:
        return role_invitations.offer(runtime.database(), token)
    except InvalidToken as invalid:
        st.error(str(invalid))
        return None


def _show(offer: role_invitations.InvitationOffer, principal: Principal | None = None) -> None:
    components.literal(f"{offer.inviter} invited {offer.email} to ResultsDesk as {offer.role}.")
    until = components.local_time(offer.expires_at, principal)
    st.caption(f"The invitation is open until {until}. Nothing changes until you accept.")


_DECLINED = "You declined the invitation. Nothing was changed."


def _decline(token: str) -> None:
    attempt(lambda: role_invitations.decline(runtime.database(), raw_token=token),
            success=_DECLINED, message_key=_DONE_KEY)


def _decline_signed_in(token: str) -> None:
    run_action(lambda principal: role_invitations.decline(runtime.database(), raw_token=token,
                                                          principal=principal),
               success=_DECLINED, message_key=_SIGNED_IN_KEY)


def accept_invitation() -> None:
    """Opened from the emailed link by someone not signed in."""
    st.title("Accept your invitation")
    if _done():
        return
    token = st.query_params.get("token", "")
    try:
        offer = role_invitations.offer(runtime.database(), token)
    except InvalidToken as invalid:
        _accept_earlier_invitation(token, invalid)
        return
    _show(offer)
    if offer.has_account:
        st.info("This address already has a ResultsDesk account. Sign in with it, then open the "
                "link in the email again to accept.")
        st.page_link(st.session_state[SIGN_IN_PAGE_KEY], label="Go to sign in")
    else:
        with st.form("accept_invitation"):
            st.text_input("Email address (your user ID)", value=offer.email, disabled=True)
            name = st.text_input("Your name", value=offer.name, key="invite_accept_name")
            password = st.text_input("Password", type="password", key="invite_password",
                                     help=_policy_help())
            accepted = _terms("invite_terms")
            if st.form_submit_button("Accept and set password", type="primary") and attempt(
                    lambda: role_invitations.accept_new(runtime.database(), raw_token=token,
                                                        name=name, password=password,
                                                        accept_terms=accepted)):
                _finish("Your password is set and the invitation accepted. Sign in with your "
                        "email address.")
    st.button("Decline the invitation", key="invite_decline", on_click=_decline, args=(token,))


def accept_invitation_signed_in(principal) -> None:
    """Opened from the emailed link in a signed-in session: accept or decline, nothing else."""
    st.title("Accept your invitation")
    message = st.session_state.pop(_SIGNED_IN_KEY, None)
    if message:
        if message[0] == "error":
            st.error(message[1])
        else:  # the role's words name organisations: shown literally, never as Markdown
            st.success("Done.")
            components.literal(message[1])
        return
    token = st.query_params.get("token", "")
    offer = _offer(token)
    if offer is None:
        return
    _show(offer, principal)
    if offer.email != principal.email:
        st.warning("This invitation was sent to another email address. Sign out, then sign in "
                   "as the person invited.")
        return
    left, right = st.columns(2)
    left.button("Accept", type="primary", key="invite_accept", on_click=_accept_signed_in,
                args=(token,))
    right.button("Decline", key="invite_decline_signed_in", on_click=_decline_signed_in,
                 args=(token,))


def _accept_signed_in(token: str) -> None:
    run_action(lambda principal: role_invitations.accept_signed_in(runtime.database(), principal,
                                                                   raw_token=token),
               success=lambda role: f"Accepted: you are now {role}.", message_key=_SIGNED_IN_KEY)


def _accept_earlier_invitation(token: str, invalid: InvalidToken) -> None:
    """A link sent before invitations waited for acceptance: the account exists, invited."""
    try:
        invited = invitations.invitation_for(runtime.database(), token)
    except InvalidToken:
        st.error(str(invalid))  # the answer about the link as an invitation of today
        return
    st.write("Welcome. Set a password for your account, then sign in.")
    with st.form("accept_invitation"):
        st.text_input("Email address (your user ID)", value=invited.email, disabled=True)
        password = st.text_input("Password", type="password", key="invite_password",
                                 help=_policy_help())
        accepted = _terms("invite_terms")
        if st.form_submit_button("Set password", type="primary") and attempt(
                lambda: invitations.accept(runtime.database(), raw_token=token, password=password,
                                           accept_terms=accepted)):
            _finish("Your password is set. Sign in with your email address.")


def forgot_password() -> None:
    st.title("Forgot your password?")
    answer = st.session_state.get(_FORGOT_KEY)
    if answer:
        st.info(answer)
        return
    with st.form("forgot_password"):
        email = st.text_input("Email address (your user ID)", key="forgot_email")
        if st.form_submit_button("Send me a reset link", type="primary"):
            st.session_state[_FORGOT_KEY] = password_reset.request_reset(
                runtime.database(), email=email)
            st.rerun()


def reset_password() -> None:
    st.title("Choose a new password")
    if _done():
        return
    token = st.query_params.get("token", "")
    with st.form("reset_password"):
        password = st.text_input("New password", type="password", key="reset_password_new",
                                 help=_policy_help())
        if st.form_submit_button("Save new password", type="primary") and attempt(
                lambda: _reset(token, password)):
            _finish("Your password is changed and you were signed out everywhere. Sign in with "
                    "the new password.")


def _reset(token: str, password: str) -> None:
    try:
        password_reset.reset_password(runtime.database(), raw_token=token, password=password)
    except InvalidToken:
        # Here a dead link has one remedy, named in the words of this screen.
        raise InvalidToken(_RESET_LINK_GONE) from None


_EMAIL_LINK_GONE = ("This confirmation link is not valid any more (used, replaced by a newer one, "
                    "or expired). Ask support to send a new one.")
_EMAIL_MESSAGE_KEY = "confirm_email_message"


def confirm_email() -> None:
    """Opened from the link sent to a new address, signed in or not: one click confirms it."""
    st.title("Confirm your new email address")
    if _done():
        return
    show_message(_EMAIL_MESSAGE_KEY)
    token = st.query_params.get("token", "")
    try:
        change = support_tools.pending_change(runtime.database(), raw_token=token)
    except InvalidToken:
        st.error(_EMAIL_LINK_GONE)
        return
    st.write("Your ResultsDesk account's email address, which is also your user ID, becomes:")
    components.literal(change.new_email, tag="strong")
    until = components.local_time(change.expires_at, None)
    st.caption(f"The link works once, until {until}. When you confirm, you are signed out on "
               "every device; then you sign in with the new address.")
    st.button("Confirm the new address", type="primary", key="confirm_email",
              on_click=_confirm_email, args=(token,))


def _confirm_email(token: str) -> None:
    def confirm() -> str:
        try:
            return support_tools.confirm_email_change(runtime.database(), raw_token=token)
        except InvalidToken:
            raise InvalidToken(_EMAIL_LINK_GONE) from None

    if attempt(confirm, message_key=_EMAIL_MESSAGE_KEY) is not None:
        # Every session of the account has ended, this tab's too: it forgets it at once.
        runtime.forget_session(st.session_state.get(runtime.TOKEN_KEY))
        st.session_state[_DONE_KEY] = ("success", "Your email address is changed and you were "
                                       "signed out everywhere. Sign in with your new address.")
