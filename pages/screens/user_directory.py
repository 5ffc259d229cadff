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

# Session state: the people search last asked for; the pages turned so far (each page's first
# email, keyset like Reports); the people ticked, by id; the names unticked by a page turn.
FILTER_KEY = "people_filter"
CURSORS_KEY = "people_cursors"
_PAGED_KEY = "people_paged"
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
        dormant = right.number_input(
            "Not signed in for (days)", min_value=1,
            max_value=user_directory.DORMANT_DAYS_LIMIT, value=None, step=1,
            key="people_dormant", placeholder="Any",
            help="People whose last sign-in is older than this, and people who never signed in "
                 "whose account is older.")
        if st.form_submit_button("Show people"):
            kind, place_id = place if place else (None, None)
            st.session_state[FILTER_KEY] = UserFilter(
                text=text, status=status, role=role, invitation=invitation,
                group_id=place_id if kind == "group" else None,
                account_id=place_id if kind == "account" else None,
                never_signed_in=signed == "Never",
                dormant_days=int(dormant) if dormant is not None else None,
                signed_in_since=(clock.now() - _SIGNED_IN[signed]) if signed and _SIGNED_IN[signed]
                else None)
            _TICKS.clear()  # a new search starts with nothing ticked, like Reports
            st.session_state[CURSORS_KEY] = [None]  # and on its first page


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


def _pager(rows: list[user_directory.UserRow], more: bool, cursors: list) -> None:
    first = (len(cursors) - 1) * user_directory.PAGE_SIZE
    previous, middle, following = st.columns([1, 4, 1])
    names = {row.id: user_panel.who(row) for row in rows}
    previous.button("← Previous", disabled=len(cursors) == 1, key="people_previous",
                    on_click=_turn_page, args=(cursors.pop, names))
    middle.caption(f"People {first + 1:,}–{first + len(rows):,}"
                   + (", more on the next page" if more else ""))
    cursor = user_directory.next_cursor(rows, more)
    following.button("Next →", disabled=cursor is None, key="people_next",
                     on_click=_turn_page, args=(lambda: cursors.append(cursor), names))


def _turn_page(turn, names: dict[int, str]) -> None:
    """Ticks belong to the page they were made on (as on Reports): turning the page lets them
    go, and the next run names whom (the list's own note would say they left the list)."""
    ticked = _TICKS.chosen()
    if ticked:
        st.session_state[_PAGED_KEY] = [names.get(i) or _TICKS.label(i) for i in ticked]
        _TICKS.clear()
    turn()


def _paged_note(names: list[str]) -> str:
    """ "Ana Diaz (ana@x.test) was on the page you left, so no longer selected." """
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{joined} {'was' if len(names) == 1 else 'were'} on the page you left, so no longer selected."


def people(principal: Principal) -> None:
    st.header("People")
    _filters(principal)
    people_filter = st.session_state.get(FILTER_KEY, UserFilter())
    cursors = st.session_state.setdefault(CURSORS_KEY, [None])
    try:
        rows, more = user_directory.search(runtime.database(), principal, people_filter,
                                           after_email=cursors[-1])
    except DomainError as error:
        st.error(str(error))
        return
    if not rows and len(cursors) > 1:
        # Nobody is left on the page shown (the filter matches fewer people now): the first page.
        st.session_state[CURSORS_KEY] = cursors = [None]
        rows, more = user_directory.search(runtime.database(), principal, people_filter)
    paged = st.session_state.pop(_PAGED_KEY, None)
    if paged:
        components.literal(_paged_note(paged))
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
    _pager(rows, more, cursors)
    chosen = [row for row in rows if row.id in ticked]
    if not chosen:
        st.caption("Select people to act on several at once, or one to see and change their roles.")
        return
    _bulk_actions(principal, chosen)
    if len(chosen) == 1:
        user_panel.panel(principal, chosen[0])
