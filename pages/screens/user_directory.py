"""The Users screen's people list: filters, a table to pick from, bulk actions, one user's panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action, say
from pages.screens.users_keys import MESSAGE_KEY
from services import clock
from services.errors import DomainError
from services.identity import memberships, user_directory, users
from services.identity.user_directory import UserFilter
from services.policy import ROLE_LABELS, Role
from services.principals import Principal
from services.statuses import InvitationState, UserStatus

# Session state: the people search last asked for.
FILTER_KEY = "people_filter"
_STATUSES = [status.value for status in UserStatus]
_INVITATIONS = {InvitationState.PENDING: "Invitation pending", InvitationState.EXPIRED: "Invitation expired"}
# The other role at the same place, offered as a one-click change (checked by the service).
_SWAP = {Role.PROVIDER_ADMIN: Role.PROVIDER_STAFF, Role.PROVIDER_STAFF: Role.PROVIDER_ADMIN,
         Role.ACCOUNT_ADMIN: Role.ACCOUNT_USER, Role.ACCOUNT_USER: Role.ACCOUNT_ADMIN}
_SIGNED_IN = {"In the last 7 days": timedelta(days=7), "In the last 30 days": timedelta(days=30),
              "In the last 90 days": timedelta(days=90), "Never": None}


def _filters(principal: Principal) -> None:
    places = memberships.places(runtime.database(), principal)
    with st.form("people_filters"):
        left, middle, right, last = st.columns(4)
        text = left.text_input("Email or name contains", key="people_text")
        status = middle.selectbox("Status", _STATUSES, index=None, key="people_status",
                                  placeholder="Any status")
        role = right.selectbox("Role", list(Role), index=None, key="people_role",
                               format_func=ROLE_LABELS.get, placeholder="Any role")
        invitation = last.selectbox("Invitation", list(_INVITATIONS), index=None,
                                    format_func=_INVITATIONS.get, key="people_invitation",
                                    placeholder="Any")
        place = left.selectbox("Provider group or account", list(places), index=None,
                               format_func=places.get, key="people_place", placeholder="Anywhere")
        signed = middle.selectbox("Last sign-in", list(_SIGNED_IN), index=None,
                                  key="people_signed_in", placeholder="Any time")
        if st.form_submit_button("Show people"):
            kind, place_id = place if place else (None, None)
            st.session_state[FILTER_KEY] = UserFilter(
                text=text, status=status, role=role, invitation=invitation,
                group_id=place_id if kind == "group" else None,
                account_id=place_id if kind == "account" else None,
                never_signed_in=signed == "Never",
                signed_in_since=(clock.now() - _SIGNED_IN[signed]) if signed and _SIGNED_IN[signed]
                else None)


def _bulk(label: str, action: Callable[..., object], user_ids: list[int]) -> None:
    def each(principal: Principal) -> list[str]:
        # One person's refusal does not stop the others; the message names every kind once.
        refused = []
        for user_id in user_ids:
            try:
                action(runtime.database(), principal, user_id=user_id)
            except DomainError as error:
                refused.append(str(error))
        return refused

    done = run_action(each)
    if done is None:
        return
    refused = done.result
    text = f"{label}: {len(user_ids) - len(refused)} of {len(user_ids)} done."
    if refused:
        text += " Not done: " + "; ".join(sorted(set(refused)))
    say("error" if refused else "success", text, message_key=MESSAGE_KEY)


def _act(label: str, action: Callable[..., object], **kwargs) -> None:
    run_action(lambda principal: action(runtime.database(), principal, **kwargs),
               success=lambda result: f"{label}: {result if isinstance(result, str) else 'done'}.",
               message_key=MESSAGE_KEY)


def people(principal: Principal) -> None:
    st.subheader("People")
    _filters(principal)
    report_filter = st.session_state.get(FILTER_KEY, UserFilter())
    try:
        rows, more = user_directory.search(runtime.database(), principal, report_filter)
    except DomainError as error:
        st.error(str(error))
        return
    if not rows:
        st.info("Nobody in your reach matches.")
        return
    table = pd.DataFrame([{
        "Email": r.email, "Name": r.name, "Status": r.status,
        "Roles": ", ".join(ROLE_LABELS[Role(x)] for x in r.roles),
        "Last sign-in": components.utc(r.last_login_at) or "never",
        "Invitation": _INVITATIONS.get(r.invitation, ""),
    } for r in rows])
    event = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="multi-row", key=f"people_grid_{hash(report_filter)}")
    if more:
        st.caption(f"The first {user_directory.PAGE_SIZE} are shown: narrow the search to see others.")
    chosen = [rows[i] for i in event.selection.rows if i < len(rows)]
    if not chosen:
        st.caption("Select people to act on several at once, or one to see and change their roles.")
        return
    ids = [row.id for row in chosen]
    columns = st.columns(3)
    for column, (label, action) in zip(columns, (
            ("Deactivate", users.deactivate), ("Resend invitation", memberships.resend_invitation),
            ("End sessions", users.end_sessions)), strict=True):
        column.button(f"{label} ({len(ids)})", key=f"people_bulk_{label}", on_click=_bulk,
                      args=(label, action, ids))
    if len(chosen) == 1:
        _one(principal, chosen[0])


def _one(principal: Principal, row: user_directory.UserRow) -> None:
    with st.container(border=True):
        components.literal(f"{row.name} ({row.email}), {row.status}", tag="h4")
        try:
            person = memberships.roles_of(runtime.database(), principal, user_id=row.id)
        except DomainError:
            st.caption("This person belongs to places outside your reach: only their "
                       "administrators there can change them.")
            return
        for index, (label, role) in enumerate(person.roles):
            left, middle, right = st.columns([4, 2, 1])
            with left:
                components.literal(label)
            other = _SWAP.get(role.role)
            if other is not None and person.whole:
                middle.button(f"Make {ROLE_LABELS[other].lower()}", key=f"role_change_{row.id}_{index}",
                              on_click=_act, args=("Role changed", memberships.change_role),
                              kwargs={"user_id": row.id, "old": role,
                                      "new": replace(role, role=other)})
            right.button("Remove", key=f"role_remove_{row.id}_{index}", on_click=_act,
                         args=("Role removed", memberships.revoke),
                         kwargs={"user_id": row.id, "role": role})
        if not person.whole:
            st.caption("This person also belongs to places outside your reach: you can remove "
                       "the roles above, which are at your places; anything else is for their "
                       "other administrators. To give them another role, invite them.")
            return
        offered = memberships.grantable(runtime.database(), principal)
        labels = [label for label, _ in offered]
        pick, add = st.columns([4, 1])
        choice = pick.selectbox("Add a role", labels, index=None, key=f"role_add_choice_{row.id}",
                                placeholder="Choose a role and where it applies")
        add.button("Add", key=f"role_add_{row.id}", disabled=choice is None, on_click=_act,
                   args=("Role added", memberships.grant),
                   kwargs={"user_id": row.id, "role": dict(offered).get(choice)})
        with st.form(f"contact_{row.id}"):
            name = st.text_input("Name", value=row.name, key=f"contact_name_{row.id}")
            phone = st.text_input("Phone", value=row.phone, key=f"contact_phone_{row.id}")
            if st.form_submit_button("Save contact details"):
                _act("Contact details saved", users.update_contact, user_id=row.id, name=name,
                     phone=phone)
                st.rerun()
        choices = [("Unlock", users.unlock, row.status == UserStatus.LOCKED),
                   ("Reactivate", users.reactivate, row.status == UserStatus.DEACTIVATED),
                   ("Delete", users.delete_or_deactivate, True)]
        for column, (label, action, enabled) in zip(st.columns(len(choices)), choices, strict=True):
            column.button(label, key=f"person_{label}_{row.id}", disabled=not enabled, on_click=_act,
                          args=(label, action), kwargs={"user_id": row.id})
