"""Audit review: filter the trail by actor, action and date, newest first, 50 a page."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from services import audit, audit_review, clock
from services.policy import Action
from services.principals import Principal

_CURSORS_KEY = "audit_cursors"


def _filter() -> audit_review.AuditFilter:
    today = clock.now().date()
    left, middle, right = st.columns([2, 2, 2])
    actor = left.text_input("Actor email", key="audit_actor")
    action = middle.selectbox("Action", ["All actions", *audit.ACTIONS], key="audit_action")
    period = right.date_input("Date range (UTC)", value=(today - timedelta(days=7), today),
                              max_value=today, key="audit_period")
    since = until = None
    if isinstance(period, tuple) and period:
        since = datetime.combine(period[0], time.min, tzinfo=timezone.utc)
        end = period[1] if len(period) > 1 else period[0]
        until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    return audit_review.AuditFilter(actor=actor, action="" if action == "All actions" else action,
                                     since=since, until=until)


@st.fragment
def _results(where: audit_review.AuditFilter) -> None:
    principal = runtime.current_principal()
    if principal is None:
        st.rerun()  # the whole app then shows the sign-in screen
    signature = repr(where)
    if st.session_state.get("audit_signature") != signature:
        st.session_state["audit_signature"] = signature
        st.session_state[_CURSORS_KEY] = [None]
    cursors = st.session_state[_CURSORS_KEY]
    page = audit_review.search(runtime.database(), principal, where=where, before=cursors[-1])
    if not page.events:
        st.info("No audit events match these filters.")
        return
    st.dataframe(pd.DataFrame([{
        "Time (UTC)": components.utc(e.occurred_at), "Actor": e.actor_email or "", "Action": e.action,
        "Outcome": e.outcome, "Target": f"{e.target_type} {e.target_id}" if e.target_type else "",
        "Details": ", ".join(f"{k}: {v}" for k, v in (e.details or {}).items()),
    } for e in page.events]), width="stretch", hide_index=True)
    previous, label, following = st.columns([1, 2, 1])
    if previous.button("Previous", disabled=len(cursors) == 1, key="audit_previous"):
        cursors.pop()
        st.rerun(scope="fragment")
    label.caption(f"Page {len(cursors)}")
    if following.button("Next", disabled=page.next_cursor is None, key="audit_next"):
        cursors.append(page.next_cursor)
        st.rerun(scope="fragment")


def render(principal: Principal) -> None:
    components.guard(principal, Action.REVIEW_AUDIT)
    st.title("Audit trail")
    st.caption("Every sign-in, lockout, unlock, sign-out, session expiry and refused action. "
               "Times are UTC.")
    _results(_filter())
