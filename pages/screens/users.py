"""Users: unlock, deactivate, reactivate and sign out people in the acting admin's scope."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from pages.screens import user_directory, user_invitations, user_invite
from pages.screens.users_keys import MESSAGE_KEY
from services.errors import DomainError
from services.identity import users
from services.mail import deliveries
from services.policy import Action
from services.principals import Principal
from services.statuses import MessageStatus, UserStatus

# Session state: the address last looked up, and the lookup form's field.
_FOUND_KEY = "users_found_email"
_LOOKUP_KEY = "users_lookup_email"


def _act(label: str, action: Callable[..., object], user_id: int) -> None:
    run_action(lambda principal: action(runtime.database(), principal, user_id=user_id),
               success=f"{label}: done.", message_key=MESSAGE_KEY)


def _locked(principal: Principal) -> None:
    st.header("Locked accounts")
    locked = users.locked_users(runtime.database(), principal)
    if not locked:
        st.write("No locked accounts in your scope.")
        return
    st.dataframe(pd.DataFrame([{"Email": u.email, "Name": u.name,
                                "Locked until": components.local_time(u.locked_until, principal)}
                               for u in locked]), hide_index=True, width="stretch")
    by_email = {summary.email: summary.id for summary in locked}
    chosen = st.selectbox("Account to unlock", list(by_email), key="unlock_choice")
    st.button("Unlock", key="unlock", on_click=_act, args=("Unlock", users.unlock, by_email[chosen]))


def _lookup(principal: Principal) -> None:
    st.header("Find a user")
    with st.form("find_user"):
        st.text_input("Email address", key=_LOOKUP_KEY)
        if st.form_submit_button("Find"):
            st.session_state[_FOUND_KEY] = st.session_state[_LOOKUP_KEY]
    email = st.session_state.get(_FOUND_KEY)
    if not email:
        return
    try:
        found = users.find_by_email(runtime.database(), principal, email=email)
    except DomainError as error:
        st.warning(str(error))
        return
    locked_until = components.local_time(found.locked_until, principal)
    last_sign_in = components.local_time(found.last_login_at, principal) or "never"
    components.literal(f"{found.name} ({found.email}): status {found.status}"
                       + (f", locked until {locked_until}" if found.status == UserStatus.LOCKED else "")
                       + f"; last sign-in {last_sign_in}.")
    yourself = found.id == principal.user_id
    # Only what can apply to this person; deactivating asks first.
    choices = [(label, action) for label, action, applies in (
        ("Unlock", users.unlock, found.status == UserStatus.LOCKED),
        ("Deactivate", users.deactivate, found.status != UserStatus.DEACTIVATED and not yourself),
        ("Reactivate", users.reactivate, found.status == UserStatus.DEACTIVATED),
        ("End sessions", users.end_sessions, not yourself and found.status != UserStatus.DEACTIVATED),
    ) if applies]
    if yourself:
        st.caption("This is your own account: to sign out, use Sign out; nobody deactivates "
                   "their own account.")
    if not choices:
        return
    for column, (label, action) in zip(st.columns(len(choices)), choices, strict=True):
        if action is users.deactivate:
            column.button(label, key=f"user_{label}", on_click=confirm.ask, args=(confirm.Question(
                title="Deactivate this account?", confirm="Deactivate",
                lines=(f"Deactivate {found.name} ({found.email})?", "They can no longer sign in, "
                       "their open sessions end and they are told by email. Their history is "
                       "kept; you can reactivate them later."),
                act=lambda: _act("Deactivate", users.deactivate, found.id)),))
        else:
            column.button(label, key=f"user_{label}", on_click=_act, args=(label, action, found.id))


def _delivery(principal: Principal) -> None:
    st.header("Email delivery problems")
    found = deliveries.problems(runtime.database(), principal)
    if not found:
        st.caption("Every email was delivered (or is waiting for its first try).")
        return
    st.dataframe(pd.DataFrame([{
        "To": p.to_address, "Email": p.kind.replace("_", " "), "State": (
            "gave up" if p.status == MessageStatus.FAILED
            else f"retry at {components.local_time(p.next_attempt_at, principal)}"),
        "Attempts": p.attempts, "Last error": p.last_error,
        "Queued": components.local_time(p.created_at, principal)} for p in found]), hide_index=True, width="stretch")


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_USERS)
    st.title("Users")
    # Before the lists: a confirmed change shows in everything drawn below it.
    confirm.show_pending()
    show_message(MESSAGE_KEY)
    if principal.can(Action.UNLOCK_USERS):
        _locked(principal)
    _lookup(principal)
    user_directory.people(principal)
    user_invitations.invitations(principal)
    user_invite.invite(principal)
    if principal.is_staff:
        _delivery(principal)
