"""One person on the Users screen: their roles, adding one, contact details, and their account.

Only buttons that can apply are shown; giving a role that manages users (or a staff role),
deactivating and deleting ask first, naming the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action
from pages.screens.users_keys import MESSAGE_KEY
from services.errors import DomainError
from services.identity import memberships, support_tools, user_directory, users
from services.policy import ROLE_LABELS, STAFF_ROLES, Action, Grant, Role, gives_power
from services.principals import Principal
from services.statuses import UserStatus

# The other role at the same place, offered as a one-click change (checked by the service).
_SWAP = {Role.PROVIDER_ADMIN: Role.PROVIDER_STAFF, Role.PROVIDER_STAFF: Role.PROVIDER_ADMIN,
         Role.ACCOUNT_ADMIN: Role.ACCOUNT_USER, Role.ACCOUNT_USER: Role.ACCOUNT_ADMIN}
_ADDED = "Role added"


def who(row: user_directory.UserRow) -> str:
    return f"{row.name} ({row.email})"


# Session state: bumped after each role added, so "Add a role" is a new, empty picker (clearing
# the old picker's value is not enough: the browser sends its last choice back).
_ADD_GENERATION_KEY = "role_add_generation"


def add_choice_key(user_id: int) -> str:
    """Session state: the role picked in one person's "Add a role"."""
    return f"role_add_choice_{user_id}_{st.session_state.get(_ADD_GENERATION_KEY, 0)}"


def _act(label: str, action: Callable[..., object], **kwargs) -> None:
    done = run_action(lambda principal: action(runtime.database(), principal, **kwargs),
                      success=lambda result: f"{label}: {result if isinstance(result, str) else 'done'}.",
                      message_key=MESSAGE_KEY)
    if done is not None and label == _ADDED:
        # The next role starts from an empty picker again.
        st.session_state[_ADD_GENERATION_KEY] = st.session_state.get(_ADD_GENERATION_KEY, 0) + 1


def _grant_question(row: user_directory.UserRow, role: Role, label: str,
                    act: Callable[[], None]) -> confirm.Question:
    power = ("It is a staff role: it reaches across the whole portal." if role in STAFF_ROLES
             else "They will be able to manage users and give roles there.")
    return confirm.Question(title="Give this role?", confirm="Give the role", act=act,
                            lines=(f"{who(row)} will get: {label}.", power))


def _roles(principal: Principal, row: user_directory.UserRow, person: memberships.PersonRoles) -> None:
    for index, (label, role) in enumerate(person.roles):
        left, middle, right = st.columns([4, 2, 1])
        with left:
            components.literal(label)
        other = _SWAP.get(role.role)
        if other is not None and person.whole:
            new = replace(role, role=other)
            kwargs = {"user_id": row.id, "old": role, "new": new}
            text, key = f"Make {ROLE_LABELS[other].lower()}", f"role_change_{row.id}_{index}"
            if gives_power(other):
                middle.button(text, key=key, on_click=confirm.ask, args=(_grant_question(
                    row, other, f"{ROLE_LABELS[other]} instead of {label}",
                    lambda kwargs=kwargs: _act("Role changed", memberships.change_role, **kwargs)),))
            else:
                middle.button(text, key=key, on_click=_act,
                              args=("Role changed", memberships.change_role), kwargs=kwargs)
        right.button("Remove", key=f"role_remove_{row.id}_{index}", on_click=confirm.ask,
                     args=(confirm.Question(
                         title="Remove this role?", confirm="Remove the role",
                         lines=(f"{who(row)} will lose: {label}.",
                                "What the role lets them do stops at their next click. Their "
                                "other roles and their account stay as they are."),
                         act=partial(_act, "Role removed", memberships.revoke, user_id=row.id,
                                     role=role)),))


def _add_role(principal: Principal, row: user_directory.UserRow) -> None:
    offered = memberships.grantable(runtime.database(), principal)
    pick, add = st.columns([4, 1])
    # Least privilege by default: nothing is chosen until the admin picks a role.
    choice = pick.selectbox("Add a role", [label for label, _ in offered], index=None,
                            key=add_choice_key(row.id),
                            placeholder="Choose a role and where it applies")
    role: Grant | None = dict(offered).get(choice)
    kwargs = {"user_id": row.id, "role": role}
    if role is not None and gives_power(role.role):
        add.button("Add", key=f"role_add_{row.id}", on_click=confirm.ask, args=(_grant_question(
            row, role.role, choice, lambda: _act(_ADDED, memberships.grant, **kwargs)),))
    else:
        add.button("Add", key=f"role_add_{row.id}", disabled=role is None,
                   help="Choose a role first." if role is None else None,
                   on_click=_act, args=(_ADDED, memberships.grant), kwargs=kwargs)


def _account(principal: Principal, row: user_directory.UserRow) -> None:
    """Unlock, reactivate, deactivate, delete: each only where it can apply, saying what it does."""
    buttons: list[tuple[str, Callable[[], None] | confirm.Question]] = []
    if row.status == UserStatus.LOCKED:
        buttons.append(("Unlock", lambda: _act("Unlock", users.unlock, user_id=row.id)))
    if row.status == UserStatus.DEACTIVATED:
        buttons.append(("Reactivate", lambda: _act("Reactivate", users.reactivate, user_id=row.id)))
    if row.id == principal.user_id:
        st.caption("This is your own account: you cannot deactivate or delete it.")
    else:
        if row.status != UserStatus.DEACTIVATED:
            buttons.append(("Deactivate", confirm.Question(
                title="Deactivate this account?", confirm="Deactivate",
                lines=(f"Deactivate {who(row)}?", "They can no longer sign in, their open sessions "
                       "end and they are told by email. Their history is kept; you can "
                       "reactivate them later."),
                act=lambda: _act("Deactivate", users.deactivate, user_id=row.id))))
        if users.can_be_deleted(runtime.database(), principal, user_id=row.id):
            buttons.append(("Delete", confirm.Question(
                title="Delete this account?", confirm="Delete",
                lines=(f"Delete {who(row)}?", "They never signed in or acted in the portal, so "
                       "the account and its roles are removed for good."),
                act=lambda: _act("Delete", users.delete, user_id=row.id))))
        else:
            st.caption("Only someone who never signed in or acted can be deleted: this "
                       "person's history is kept, so deactivating is the way to stop them.")
    if not buttons:
        return
    for column, (label, then) in zip(st.columns(len(buttons)), buttons, strict=True):
        if isinstance(then, confirm.Question):
            column.button(label, key=f"person_{label}_{row.id}", on_click=confirm.ask, args=(then,))
        else:
            column.button(label, key=f"person_{label}_{row.id}", on_click=then)


def panel(principal: Principal, row: user_directory.UserRow) -> None:
    with st.container(border=True):
        components.literal(f"{row.name} ({row.email}), {row.status}", tag="h4")
        try:
            person = memberships.roles_of(runtime.database(), principal, user_id=row.id)
        except DomainError:
            st.caption("This person belongs to places outside your reach: only their "
                       "administrators there can change them.")
            return
        _roles(principal, row, person)
        if not person.whole:
            st.caption("This person also belongs to places outside your reach: you can remove "
                       "the roles above, which are at your places; anything else is for their "
                       "other administrators. To give them another role, invite them.")
            return
        _add_role(principal, row)
        with st.form(f"contact_{row.id}"):
            name = st.text_input("Name", value=row.name, key=f"contact_name_{row.id}")
            phone = st.text_input("Phone", value=row.phone, key=f"contact_phone_{row.id}")
            if st.form_submit_button("Save contact details"):
                _act("Contact details saved", users.update_contact, user_id=row.id, name=name,
                     phone=phone)
                st.rerun()
        _account(principal, row)
        _support(principal, row)


_NOT_SIGNING_IN = ("Only an account that can sign in (active or locked) has an email address to "
                   "change and a password to reset.")


def _support(principal: Principal, row: user_directory.UserRow) -> None:
    """Support tools: change the email address, new-result emails, a password-reset link."""
    if not principal.can(Action.SUPPORT_USERS):
        return
    try:
        now = support_tools.state(runtime.database(), principal, user_id=row.id)
    except DomainError:
        return
    components.literal("Support tools", tag="h5")
    signs_in = row.status in (UserStatus.ACTIVE, UserStatus.LOCKED)
    with st.form(f"email_change_{row.id}", clear_on_submit=True):
        st.caption("Change the email address (the user ID). A confirmation link goes to the new "
                   "address and a notice to the old one; the address changes, and every session "
                   "of the person ends, when they open the link.")
        new = st.text_input("New email address", key=f"email_change_new_{row.id}")
        again = st.text_input("New email address again", key=f"email_change_again_{row.id}")
        if st.form_submit_button("Send confirmation link", disabled=not signs_in,
                                 help=None if signs_in else _NOT_SIGNING_IN):
            _act("Confirmation link sent to the new address, notice sent to the old one",
                 _email_change, user_id=row.id, new_email=new, repeated=again)
            st.rerun()
    if now.pending_email:
        until = components.local_time(now.pending_until, principal)
        components.literal(f"Waiting for confirmation: {now.pending_email} (the link works "
                           f"until {until}).")
    left, right = st.columns(2)
    with left:
        state = "on" if now.result_notices else "off"
        st.write(f"New-result emails: {state}.")
        st.button(f"Turn new-result emails {'off' if now.result_notices else 'on'}",
                  key=f"support_notices_{row.id}", on_click=_act,
                  args=("New-result emails", support_tools.set_result_notices),
                  kwargs={"user_id": row.id, "enabled": not now.result_notices})
    with right:
        st.write("Password: the person chooses a new one from an emailed link.")
        st.button("Send a password-reset link", key=f"support_reset_{row.id}",
                  disabled=not signs_in, help=None if signs_in else _NOT_SIGNING_IN,
                  on_click=_act, args=("Password-reset link sent", _reset_link),
                  kwargs={"user_id": row.id})
    if now.second_factor:
        st.write("Two-factor sign-in: on. For a lost phone without recovery codes, reset it: the "
                 "person sets up an app again at next sign-in.")
        st.button("Reset two-factor sign-in", key=f"support_2fa_{row.id}", on_click=confirm.ask,
                  args=(confirm.Question(
                      title="Reset two-factor sign-in?", confirm="Reset",
                      act=lambda: _act("Two-factor sign-in reset", support_tools.reset_second_factor,
                                       user_id=row.id),
                      lines=(f"{row.name}'s authenticator app and recovery codes stop working at "
                             "once and every session of theirs ends.",
                             "They get an email saying so. Do this only after checking who is "
                             "calling.")),))
    else:
        st.write("Two-factor sign-in: off.")


def _email_change(db, principal: Principal, **kwargs) -> None:
    # The new address is typed: it is shown below the form literally, never in the message.
    support_tools.request_email_change(db, principal, **kwargs)


def _reset_link(db, principal: Principal, *, user_id: int) -> str:
    expires = support_tools.send_reset_link(db, principal, user_id=user_id)
    return f"it works once, until {components.local_time(expires, principal)}"
