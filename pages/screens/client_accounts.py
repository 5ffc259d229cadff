"""Client accounts: employers, payors and TPAs, their people and roles; adding someone to
another account."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action, show_message
from services.identity import memberships
from services.organizations import client_accounts
from services.policy import ROLE_LABELS, Action, Grant, Role
from services.principals import Principal

# Session state: the message a click leaves for the next run; the account and role to add to.
_MESSAGE_KEY = "ca_message"
_TARGET_KEY = "ca_target"
_ROLE_KEY = "ca_role"
_ROLES = [Role.ACCOUNT_USER, Role.ACCOUNT_ADMIN]


def _add(user_id: int) -> None:
    account_id, role = st.session_state.get(_TARGET_KEY), st.session_state.get(_ROLE_KEY)
    if account_id is None:
        return
    run_action(lambda principal: memberships.grant(
        runtime.database(), principal, user_id=user_id, role=Grant(Role(role), account_id=account_id)),
        success="Added to the account.", message_key=_MESSAGE_KEY)


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_CLIENT_ACCOUNTS)
    st.title("Client accounts")
    show_message(_MESSAGE_KEY)
    found = client_accounts.accounts(runtime.database(), principal)
    if not found:
        st.info("There are no client accounts yet.")
        return
    names = {a.id: f"{a.name} ({'TPA' if a.kind == 'tpa' else a.kind}, {a.people} people)"
             for a in found}
    chosen = st.selectbox("Account", list(names), format_func=names.get, key="ca_account")
    people = client_accounts.people_of(runtime.database(), principal, account_id=chosen)
    if not people:
        st.caption("Nobody belongs to this account yet: invite someone on the Users screen.")
        return
    event = st.dataframe(pd.DataFrame([{
        "Email": p.email, "Name": p.name, "Status": p.status, "Role": ROLE_LABELS[Role(p.role)]}
        for p in people]), hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row", key=f"ca_people_{chosen}")
    if not event.selection.rows:
        st.caption("Select a person to add them to another account.")
        return
    person = people[event.selection.rows[0]]
    others = {a.id: names[a.id] for a in found if a.id != chosen}
    left, middle, right = st.columns([3, 2, 1])
    left.selectbox("Add to account", list(others), format_func=others.get, key=_TARGET_KEY)
    middle.selectbox("With the role", _ROLES, format_func=ROLE_LABELS.get, key=_ROLE_KEY)
    right.button("Add", key="ca_add", on_click=_add, args=(person.user_id,))
