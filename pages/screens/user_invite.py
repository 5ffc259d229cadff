"""Inviting someone: an email link, valid for the invitation lifetime, offering one role to give.

The answer and the list entry are the same whether or not the address has an account.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from pages.common import confirm, runtime
from pages.common.actions import run_action, say
from pages.screens.users_keys import MESSAGE_KEY
from services import settings
from services.errors import InvalidInput
from services.identity import memberships, role_invitations
from services.mail import addresses
from services.policy import STAFF_ROLES, Role, gives_power
from services.principals import Principal
from services.wording import period

# The form's fields, emptied on the run after an invitation is sent (a field already drawn in a
# run keeps its value in the browser); the flag asks for that.
_FIELDS = {"invite_email": "", "invite_email_again": "", "invite_name": "", "invite_phone": "",
           "invite_role": None}
_SENT_KEY = "invite_sent"


def _lifetime() -> str:
    return period(settings.current().invitation_lifetime, "hours")


def _invite(principal: Principal, *, role, email_again: str, **person: str) -> None:
    # The address typed twice must match before anything is asked or sent.
    addresses.confirmed(person["email"], email_again)
    if role is None:
        raise InvalidInput("Choose the role to offer.")
    role_invitations.invite(runtime.database(), principal, role=role, **person)


def invite(principal: Principal) -> None:
    st.header("Invite someone")
    offered = memberships.grantable(runtime.database(), principal)
    if not offered:
        st.caption("There is no role you may give.")
        return
    if st.session_state.pop(_SENT_KEY, False):
        st.session_state.update(_FIELDS)
    # Not cleared on submit: a refused invitation (no role chosen, a mistyped address) keeps what
    # was typed; the fields empty once the invitation is sent.
    with st.form("invite"):
        # One row of columns per line, so Tab moves in reading order (Email, Email again, Name,
        # Phone, Role) rather than down one column and then the other.
        left, right = st.columns(2)
        email = left.text_input("Email address (their user ID)", key="invite_email")
        # No help icon: it would take a Tab stop between the two addresses.
        again = right.text_input("Email address again", key="invite_email_again")
        left, right = st.columns(2)
        name = left.text_input("Name", key="invite_name")
        phone = right.text_input("Phone (optional)", key="invite_phone")
        left, right = st.columns(2)
        # Least privilege first: no role is chosen until the admin picks one.
        label = right.selectbox("Role to give", [label for label, _ in offered], key="invite_role",
                                index=None, placeholder="Choose a role and where it applies")
        if st.form_submit_button("Send invitation"):
            role = dict(offered).get(label)
            send = partial(_send, email=email, email_again=again, name=name, phone=phone,
                           role=role)
            if (role is not None and gives_power(role.role)
                    and _same_address(email, again)):
                # Offering power asks first, naming who would get what.
                confirm.ask(_question(label, role.role, email, name, send))
                st.rerun()
            send()


def _same_address(email: str, again: str) -> bool:
    """Ask about power only for an address typed the same twice (else the refusal shows first)."""
    try:
        addresses.confirmed(email, again)
    except InvalidInput:
        return False
    return True


def _send(message_key: str | None = None, **typed) -> None:
    """Send it; a refusal shows at once, or through the screen's message from the dialog."""
    if run_action(lambda principal: _invite(principal, **typed), message_key=message_key):
        st.session_state[_SENT_KEY] = True
        # Through the screen's message and a fresh run, so the list above shows it at once.
        say("success", f"Invitation sent. The link works for {_lifetime()}; nothing is "
                       "given until the person accepts.", message_key=MESSAGE_KEY)
        st.rerun()


def _question(label: str, role: Role, email: str, name: str,
              send: Callable[..., None]) -> confirm.Question:
    power = ("It is a staff role: it reaches across the whole portal." if role in STAFF_ROLES
             else "If they accept, they will be able to manage users and give roles there.")
    return confirm.Question(
        title="Invite with this role?", confirm="Send the invitation",
        act=partial(send, message_key=MESSAGE_KEY),
        lines=(f"{name.strip() or 'The person'} ({email.strip()}) will be offered: {label}.", power,
               f"The link works for {_lifetime()}; nothing is given until they accept."))
