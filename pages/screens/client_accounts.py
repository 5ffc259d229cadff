"""Client accounts: employers, payors and TPAs. Create one; for the chosen account its details
(edit, deactivate, reactivate), the report types it receives, inviting its admin, and its people
(adding someone to another account)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, say, show_message
from pages.common.selection import Choice
from pages.screens import account_report_types
from services import settings
from services.errors import InvalidInput
from services.identity import memberships
from services.mail import addresses
from services.organizations import client_accounts
from services.organizations.client_accounts import KIND_LABELS, AccountDetails, AccountRow
from services.policy import ROLE_LABELS, Action, Grant, Role, gives_power
from services.principals import Principal
from services.wording import period, plural

# Session state: the message a click leaves for the next run; the account chosen (by id).
_MESSAGE_KEY = "ca_message"
ACCOUNT_KEY = "ca_account"
# The account picker's widget key starts with this (the rest changes with its labels).
PICKER_PREFIX = "ca_account_pick_"
_ROLES = [Role.ACCOUNT_USER, Role.ACCOUNT_ADMIN]
# The create form's fields (emptied once an account is created).
_NEW = {"kind": "ca_new_kind", "name": "ca_new_name", "external_ref": "ca_new_ref",
        "contact_name": "ca_new_contact_name", "contact_email": "ca_new_contact_email",
        "contact_phone": "ca_new_contact_phone"}
_NEW_STATUS = "ca_new_status"
_NEW_OPEN = "ca_new_open"  # whether the create form is unfolded
_ACTIVE, _INACTIVE = "Active", "Deactivated (nobody reaches it until it is reactivated)"
# The invite form's fields of one account, emptied on the run after an invitation is sent.
_INVITE_FIELDS = ("ca_invite_email", "ca_invite_email_again", "ca_invite_name")
_INVITE_SENT_KEY = "ca_invite_sent"


def _people(account_id: int) -> Choice:
    """The person chosen in one account's list, by user id (each account keeps its own)."""
    return Choice(grid_key=f"ca_people_{account_id}", chosen_key=f"ca_person_{account_id}",
                  label=lambda user_id: "The person you had selected", typed=True)


def target_key(account_id: int, user_id: int) -> str:
    """Session state: the other account a person listed in `account_id` is to be added to."""
    return f"ca_target_{account_id}_{user_id}"


def role_key(account_id: int, user_id: int) -> str:
    """Session state: the role that person is to get there."""
    return f"ca_role_{account_id}_{user_id}"


def edit_key(field: str, account_id: int) -> str:
    """Session state: one field of one account's "Edit details" form."""
    return f"ca_edit_{field}_{account_id}"


def invite_key(field: str, account_id: int) -> str:
    """Session state: one field of one account's invite form."""
    return f"{field}_{account_id}"


def _kind(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def _label(account: AccountRow) -> str:
    return (f"{account.name} ({_kind(account.kind)}, {plural(account.people, 'person', 'people')}"
            + ("" if account.active else ", deactivated") + ")")


# --- creating an account -----------------------------------------------------------------------


def _create() -> None:
    state = st.session_state
    details = AccountDetails(**{field: state.get(key) or "" for field, key in _NEW.items()})
    active = state.get(_NEW_STATUS, _ACTIVE) == _ACTIVE
    done = run_action(lambda principal: client_accounts.create(
        runtime.database(), principal, details=details, active=active),
        success="Client account created: it is chosen below.", message_key=_MESSAGE_KEY)
    if done is not None:
        state[ACCOUNT_KEY] = done.result  # the new account is the one shown next
        for key in _NEW.values():
            state[key] = None if key == _NEW["kind"] else ""
        state[_NEW_STATUS] = _ACTIVE
        state[_NEW_OPEN] = False


def _create_form() -> None:
    # Keyed, so a refused create leaves it open on what was typed; a created account folds it.
    with st.expander("Create a client account", key=_NEW_OPEN), st.form("ca_new"):
        left, right = st.columns(2)
        # No kind is chosen until the representative picks one.
        left.selectbox("Kind", list(KIND_LABELS), format_func=KIND_LABELS.get, index=None,
                       key=_NEW["kind"], placeholder="Employer, payor or TPA")
        right.text_input("Account name", key=_NEW["name"], max_chars=200)
        left, right = st.columns(2)
        left.text_input("External reference (optional)", key=_NEW["external_ref"], max_chars=60,
                        help="The customer's number in your other systems; no two accounts "
                             "share one.")
        right.radio("Status", [_ACTIVE, _INACTIVE], key=_NEW_STATUS)
        st.caption("Main contact")
        left, middle, right = st.columns(3)
        left.text_input("Contact name", key=_NEW["contact_name"], max_chars=200)
        middle.text_input("Contact email", key=_NEW["contact_email"], max_chars=254)
        right.text_input("Contact phone (optional)", key=_NEW["contact_phone"], max_chars=40)
        st.form_submit_button("Create account", on_click=_create)


# --- one account's details -----------------------------------------------------------------------


def _save(account: AccountRow) -> None:
    state = st.session_state
    details = AccountDetails(kind=account.kind, **{
        field: state.get(edit_key(field, account.id)) or ""
        for field in ("name", "external_ref", "contact_name", "contact_email", "contact_phone")})
    run_action(lambda principal: client_accounts.update_details(
        runtime.database(), principal, account_id=account.id, details=details),
        success=lambda changed: "Details saved." if changed else "Nothing was changed.",
        message_key=_MESSAGE_KEY)


def _switch(account_id: int, act: Callable, success: Callable[[int], str]) -> None:
    run_action(lambda principal: act(runtime.database(), principal, account_id=account_id),
               success=success, message_key=_MESSAGE_KEY)


def _status_question(account: AccountRow) -> confirm.Question:
    people = plural(account.people, "person", "people")
    if account.active:
        return confirm.Question(
            title="Deactivate this client account?", confirm="Deactivate",
            act=lambda: _switch(account.id, client_accounts.deactivate,
                                lambda n: f"Account deactivated: {plural(n, 'person', 'people')} "
                                          "lost access to it."),
            lines=(f"Deactivate {account.name} ({_kind(account.kind)})?",
                   f"{people} will lose access to it at once; their other accounts stay as they "
                   "are. Uploads naming it are refused and invitations to it that are still "
                   "waiting are cancelled.",
                   "Its reports and its people's memberships are kept: reactivating it gives the "
                   "same people access again."))
    return confirm.Question(
        title="Reactivate this client account?", confirm="Reactivate",
        act=lambda: _switch(account.id, client_accounts.reactivate,
                            lambda n: f"Account reactivated: {plural(n, 'person', 'people')} "
                                      "can reach it again."),
        lines=(f"Reactivate {account.name} ({_kind(account.kind)})?",
               f"{people} will reach it again with the roles they had, and uploads may name it "
               "again."))


def _details(principal: Principal, account: AccountRow) -> None:
    st.subheader("Account details")
    status = ("Active" if account.active else
              f"Deactivated on {components.local_day(account.deactivated_at, principal)}")
    for line in (f"Kind: {_kind(account.kind)}",
                 f"External reference: {account.external_ref or 'none'}",
                 "Main contact: " + (", ".join(filter(None, (
                     account.contact_name, account.contact_email, account.contact_phone)))
                     or "none recorded"),
                 f"Status: {status}"):
        components.literal(line)
    if not account.active:
        st.warning("Nobody reaches this account while it is deactivated: its people have lost "
                   "access to it and uploads naming it are refused.")
    # Keyed, so a refused save leaves it open on what was typed.
    with st.expander("Edit details", key=f"ca_edit_open_{account.id}"), \
            st.form(f"ca_edit_{account.id}"):
        # Keyed by the account: switching accounts never shows another's typed values.
        left, right = st.columns(2)
        left.text_input("Kind", value=_kind(account.kind), disabled=True,
                        key=edit_key("kind", account.id),
                        help="An account's kind is fixed once it exists (docs/roles.md).")
        right.text_input("Account name", value=account.name, max_chars=200,
                         key=edit_key("name", account.id))
        left, right = st.columns(2)
        left.text_input("External reference (optional)", value=account.external_ref,
                        max_chars=60, key=edit_key("external_ref", account.id))
        left, middle, right = st.columns(3)
        left.text_input("Contact name", value=account.contact_name, max_chars=200,
                        key=edit_key("contact_name", account.id))
        middle.text_input("Contact email", value=account.contact_email, max_chars=254,
                          key=edit_key("contact_email", account.id))
        right.text_input("Contact phone (optional)", value=account.contact_phone, max_chars=40,
                         key=edit_key("contact_phone", account.id))
        st.form_submit_button("Save details", on_click=_save, args=(account,))
    label = "Deactivate account" if account.active else "Reactivate account"
    st.button(label, key=f"ca_status_{account.id}", on_click=confirm.ask,
              args=(_status_question(account),))


# --- report types --------------------------------------------------------------------------------


def _report_types(principal: Principal, account_id: int) -> None:
    """The report types this account receives, in their own section below the details."""
    account_report_types.render(principal, account_id)


# --- inviting the account's admin ---------------------------------------------------------------


def _invite(account_id: int, email: str, again: str, name: str) -> None:
    done = run_action(lambda principal: client_accounts.invite_admin(
        runtime.database(), principal, account_id=account_id, email=email, email_again=again,
        name=name), message_key=_MESSAGE_KEY)
    if done is not None:
        st.session_state[_INVITE_SENT_KEY] = account_id
        lifetime = period(settings.current().invitation_lifetime, "hours")
        say("success", f"Invitation sent. The link works for {lifetime}; nothing is given until "
                       "the person accepts.", message_key=_MESSAGE_KEY)


def _invite_form(account: AccountRow, people: list[client_accounts.AccountPerson]) -> None:
    has_admin = any(person.role == Role.ACCOUNT_ADMIN for person in people)
    st.subheader("Invite another admin" if has_admin else "Invite the account's first admin")
    if not account.active:
        st.caption("Reactivate the account to invite anyone to it.")
        return
    keys = {field: invite_key(field, account.id) for field in _INVITE_FIELDS}
    if st.session_state.get(_INVITE_SENT_KEY) == account.id:
        st.session_state.pop(_INVITE_SENT_KEY)
        st.session_state.update({key: "" for key in keys.values()})
    st.caption(f"They are offered the role {ROLE_LABELS[Role.ACCOUNT_ADMIN]} of this account: "
               "they manage its users. A person who already has an account signs in to accept.")
    with st.form(f"ca_invite_{account.id}"):
        left, right = st.columns(2)
        email = left.text_input("Email address (their user ID)", key=keys["ca_invite_email"])
        again = right.text_input("Email address again", key=keys["ca_invite_email_again"])
        name = left.text_input("Name", key=keys["ca_invite_name"])
        if st.form_submit_button("Send invitation"):
            # A mismatch is refused before anything is asked or sent.
            try:
                address = addresses.confirmed(email, again)
            except InvalidInput as error:
                st.error(str(error))
                return
            confirm.ask(confirm.Question(
                title="Invite an admin?", confirm="Send the invitation",
                act=partial(_invite, account.id, email, again, name),
                lines=(f"{name.strip() or 'The person'} ({address}) will be offered: "
                       f"{ROLE_LABELS[Role.ACCOUNT_ADMIN]} of {account.name}.",
                       "If they accept, they will be able to manage the account's users.")))
            st.rerun()


# --- the account's people ----------------------------------------------------------------------


def _add(listed_in: int, user_id: int) -> None:
    account_id = st.session_state.get(target_key(listed_in, user_id))
    role = st.session_state.get(role_key(listed_in, user_id))
    if account_id is None or role is None:
        return
    if run_action(lambda principal: memberships.grant(
            runtime.database(), principal, user_id=user_id,
            role=Grant(Role(role), account_id=account_id)),
            success="Added to the account.", message_key=_MESSAGE_KEY):
        # That account is no longer offered for this person, and the next pick starts empty. The
        # role is set to none rather than forgotten: forgotten, the browser kept showing the role
        # while the screen held none (Add disabled beside a chosen role).
        st.session_state.pop(target_key(listed_in, user_id), None)
        st.session_state[role_key(listed_in, user_id)] = None


def _people_section(found: list[AccountRow], account: AccountRow,
                    people: list[client_accounts.AccountPerson]) -> None:
    st.subheader("People")
    chosen = account.id
    choice = _people(chosen)
    if not people:
        choice.resolve([])
        st.caption("Nobody belongs to this account yet: invite its admin above, or invite "
                   "someone on the Users screen.")
        return
    ticked = choice.grid(pd.DataFrame([{
        "Email": p.email, "Name": p.name, "Status": p.status, "Role": ROLE_LABELS[Role(p.role)]}
        for p in people]), [p.user_id for p in people],
        labels={p.user_id: f"{p.name} ({p.email})" for p in people})
    if not ticked:
        st.caption("Select a person to add them to another account.")
        return
    person = next(p for p in people if p.user_id == ticked[0])
    keys = chosen, person.user_id
    # Only active accounts the person is not in yet: adding them where they already are, or to
    # an account nobody reaches, cannot apply.
    others = {a.id: _label(a) for a in found
              if a.active and a.id not in person.accounts | {chosen}}
    if not others:
        components.literal(f"{person.name} ({person.email}) already belongs to every active account.")
        return
    left, middle, right = st.columns([3, 2, 1])
    # Keyed by the person: choosing someone else never carries a pick over to them.
    left.selectbox("Add to account", list(others), format_func=others.get,
                   key=target_key(*keys))
    # Least privilege by default: no role is chosen until the representative picks one.
    role = middle.selectbox("With the role", _ROLES, format_func=ROLE_LABELS.get,
                            key=role_key(*keys), index=None, placeholder="Choose a role")
    target = st.session_state.get(target_key(*keys))
    add_key = f"ca_add_{chosen}_{person.user_id}"
    if role is not None and gives_power(Role(role)) and target is not None:
        question = confirm.Question(
            title="Give this role?", confirm="Give the role", act=lambda: _add(*keys),
            lines=(f"{person.name} ({person.email}) will become {ROLE_LABELS[Role(role)]} of "
                   f"{others[target]}.", "They will be able to manage that account's users."))
        right.button("Add", key=add_key, on_click=confirm.ask, args=(question,))
    else:
        right.button("Add", key=add_key, disabled=role is None,
                     help="Choose a role first." if role is None else None, on_click=_add,
                     args=keys)


def _pick_account(by_id: dict[int, AccountRow]) -> int:
    """The account picker; returns the chosen account's id (kept under ACCOUNT_KEY).

    The picker is a new widget whenever any label changes (a rename, a deactivation, a person
    added): a kept widget went on showing the chosen account's old label in the browser. So the
    choice lives under ACCOUNT_KEY and each new picker starts on it.
    """
    state = st.session_state
    labels = {account_id: _label(account) for account_id, account in by_id.items()}
    version = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:12]
    key = f"{PICKER_PREFIX}{version}"
    if state.get(ACCOUNT_KEY) not in by_id:
        state[ACCOUNT_KEY] = next(iter(by_id))
    if state.get(key) not in by_id:
        state[key] = state[ACCOUNT_KEY]
    state[ACCOUNT_KEY] = st.selectbox("Account", list(labels), format_func=labels.get, key=key)
    return state[ACCOUNT_KEY]


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_CLIENT_ACCOUNTS)
    st.title("Client accounts")
    # Before the lists: a confirmed change shows in everything drawn below it.
    confirm.show_pending()
    show_message(_MESSAGE_KEY)
    _create_form()
    found = client_accounts.accounts(runtime.database(), principal)
    if not found:
        st.info("There are no client accounts yet: create the first one above.")
        return
    by_id = {a.id: a for a in found}
    account = by_id[_pick_account(by_id)]
    people = client_accounts.people_of(runtime.database(), principal, account_id=account.id)
    _details(principal, account)
    _report_types(principal, account.id)
    _invite_form(account, people)
    _people_section(found, account, people)
