"""Client accounts: employers, payors and TPAs, their people and roles; adding someone to
another account."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from services.identity import memberships
from services.organizations import client_accounts
from services.policy import ROLE_LABELS, Action, Grant, Role, gives_power
from services.principals import Principal
from services.wording import plural

# Session state: the message a click leaves for the next run; the account and role to add to.
_MESSAGE_KEY = "ca_message"
_TARGET_KEY = "ca_target"
_ROLE_KEY = "ca_role"
_ROLES = [Role.ACCOUNT_USER, Role.ACCOUNT_ADMIN]


def _add(user_id: int) -> None:
    account_id, role = st.session_state.get(_TARGET_KEY), st.session_state.get(_ROLE_KEY)
    if account_id is None or role is None:
        return
    run_action(lambda principal: memberships.grant(
        runtime.database(), principal, user_id=user_id, role=Grant(Role(role), account_id=account_id)),
        success="Added to the account.", message_key=_MESSAGE_KEY)


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
    # Least privilege by default: no role is chosen until the representative picks one.
    role = middle.selectbox("With the role", _ROLES, format_func=ROLE_LABELS.get, key=_ROLE_KEY,
                            index=None, placeholder="Choose a role")
    target = st.session_state.get(_TARGET_KEY)
    if role is not None and gives_power(Role(role)) and target is not None:
        right.button("Add", key="ca_add", on_click=confirm.ask, args=(confirm.Question(
            title="Give this role?", confirm="Give the role",
            act=lambda: _add(person.user_id),
            lines=(f"{person.name} ({person.email}) will become {ROLE_LABELS[Role(role)]} of "
                   f"{others[target]}.", "They will be able to manage that account's users."))),)
    else:
        right.button("Add", key="ca_add", disabled=role is None, help="Choose a role first."
                     if role is None else None, on_click=_add, args=(person.user_id,))
