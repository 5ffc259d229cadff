"""The Users screen's people list: filters, a table to pick from, bulk actions, one user's panel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, say
from pages.common.selection import Choice
from pages.screens import user_panel
from pages.screens.users_keys import MESSAGE_KEY
from services import clock
from services.errors import DomainError
from services.identity import memberships, user_directory, users
from services.identity.user_directory import UserFilter
from services.policy import ROLE_LABELS, Role
from services.principals import Principal
from services.statuses import InvitationState, UserStatus
from services.wording import plural

# Session state: the people search last asked for; the people ticked, by id.
FILTER_KEY = "people_filter"
_TICKS = Choice(grid_key="people_grid_ticks", chosen_key="people_ticked_ids", multi=True,
                label=lambda user_id: "A person you had selected", typed=True)
_BULK_DEACTIVATE, _BULK_RESEND, _BULK_END = "Deactivate", "Resend invitation", "End sessions"
_STATUSES = [status.value for status in UserStatus]
_INVITATIONS = {InvitationState.PENDING: "Invitation pending", InvitationState.EXPIRED: "Invitation expired"}
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
            _TICKS.clear()  # a new search starts with nothing ticked, like Reports


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
    text = f"{label}: done for {len(user_ids) - len(refused)} of {plural(len(user_ids), 'person', 'people')}."
    if refused:
        text += " Not done: " + "; ".join(sorted(set(refused)))
    say("error" if refused else "success", text, message_key=MESSAGE_KEY)


def _bulk_actions(principal: Principal, chosen: list[user_directory.UserRow]) -> None:
    """Each bulk button acts only on the selected people it can apply to, after a question."""
    others = [row for row in chosen if row.id != principal.user_id]
    offers = (
        (_BULK_DEACTIVATE, users.deactivate,
         [row for row in others if row.status != UserStatus.DEACTIVATED],
         "They can no longer sign in, their open sessions end and they are told by email.",
         "Nobody selected can be deactivated (already deactivated, or yourself)."),
        (_BULK_RESEND, memberships.resend_invitation,
         [row for row in others if row.status == UserStatus.INVITED],
         "Each gets a new link by email; their earlier link stops working.",
         "Only people who have not accepted their invitation can get a new one."),
        # A deactivated account's sessions ended when it was deactivated.
        (_BULK_END, users.end_sessions,
         [row for row in others if row.status != UserStatus.DEACTIVATED],
         "They are signed out everywhere and must sign in again.",
         "Deactivated people have no sessions; to sign yourself out, use Sign out."),
    )
    for column, (label, action, fits, effect, reason) in zip(st.columns(len(offers)), offers,
                                                             strict=True):
        if not fits:
            column.button(label, key=f"people_bulk_{label}", disabled=True, help=reason)
            column.caption(reason)
            continue
        ids = [row.id for row in fits]
        question = confirm.Question(
            title=f"{label}?", confirm=f"{label} ({len(fits)})",
            lines=(f"{label}: {plural(len(fits), 'person', 'people')}. {effect}",),
            people=tuple(user_panel.who(row) for row in fits),
            act=lambda label=label, action=action, ids=ids: _bulk(label, action, ids))
        column.button(f"{label} ({len(fits)})", key=f"people_bulk_{label}", on_click=confirm.ask,
                      args=(question,))
        if len(fits) < len(chosen):
            column.caption(f"Not for {plural(len(chosen) - len(fits), 'selected person', 'selected people')}.")


def people(principal: Principal) -> None:
    st.header("People")
    _filters(principal)
    report_filter = st.session_state.get(FILTER_KEY, UserFilter())
    try:
        rows, more = user_directory.search(runtime.database(), principal, report_filter)
    except DomainError as error:
        st.error(str(error))
        return
    if not rows:
        _TICKS.resolve([])
        st.info("Nobody in your reach matches.")
        return
    table = pd.DataFrame([{
        "Email": r.email, "Name": r.name, "Status": r.status.capitalize(),
        "Roles": ", ".join(ROLE_LABELS[Role(x)] for x in r.roles),
        "Where": ", ".join(r.places),
        "Last sign-in": components.local_time(r.last_login_at, principal) or "never",
        "Invitation": _INVITATIONS.get(r.invitation, ""),
    } for r in rows])
    ticked = set(_TICKS.grid(table, [r.id for r in rows],
                             labels={r.id: user_panel.who(r) for r in rows}))
    if more:
        st.caption(f"The first {user_directory.PAGE_SIZE} are shown: narrow the search to see others.")
    chosen = [row for row in rows if row.id in ticked]
    if not chosen:
        st.caption("Select people to act on several at once, or one to see and change their roles.")
        return
    _bulk_actions(principal, chosen)
    if len(chosen) == 1:
        user_panel.panel(principal, chosen[0])
