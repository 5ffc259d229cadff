"""Client accounts: employers, payors and TPAs, their people and roles; adding someone to
another account."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from pages.common.selection import Choice
from services.identity import memberships
from services.organizations import client_accounts
from services.policy import ROLE_LABELS, Action, Grant, Role, gives_power
from services.principals import Principal
from services.wording import plural

# Session state: the message a click leaves for the next run.
_MESSAGE_KEY = "ca_message"
_ROLES = [Role.ACCOUNT_USER, Role.ACCOUNT_ADMIN]


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


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_CLIENT_ACCOUNTS)
    st.title("Client accounts")
    confirm.show_pending()
    show_message(_MESSAGE_KEY)
    found = client_accounts.accounts(runtime.database(), principal)
    if not found:
        st.info("There are no client accounts yet.")
        return
    names = {a.id: f"{a.name} ({'TPA' if a.kind == 'tpa' else a.kind}, {plural(a.people, 'person', 'people')})"
             for a in found}
    chosen = st.selectbox("Account", list(names), format_func=names.get, key="ca_account")
    people = client_accounts.people_of(runtime.database(), principal, account_id=chosen)
    choice = _people(chosen)
    if not people:
        choice.resolve([])
        st.caption("Nobody belongs to this account yet: invite someone on the Users screen.")
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
    # Only accounts the person is not in yet: adding them where they already are cannot apply.
    others = {a.id: names[a.id] for a in found if a.id not in person.accounts | {chosen}}
    if not others:
        components.literal(f"{person.name} ({person.email}) already belongs to every account.")
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
