"""Audit review: filter the trail by actor, action and date, newest first, 50 a page."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from services import clock, time_zones
from services.policy import Action
from services.principals import Principal
from services.privacy import audit_chain, audit_review, audit_words
from services.wording import plural

# Session state: the filters the pages belong to, and the pages seen so far.
_SIGNATURE_KEY = "audit_signature"
_CURSORS_KEY = "audit_cursors"

_VIEWS = ("All events", "Who accessed a report", "What a user did")
_TARGETS = ["", *audit_words.TARGET_KINDS]
_OUTCOMES = ["", "success", "failure", "denied"]


def _filter(principal: Principal) -> audit_review.AuditFilter:
    today = clock.now().astimezone(principal.zone).date()
    view = st.radio("View", _VIEWS, horizontal=True, key="audit_view")
    left, middle, right = st.columns([2, 2, 2])
    period = right.date_input("Date range", value=(today - timedelta(days=7), today),
                              max_value=today, key="audit_period")
    since = until = None
    if isinstance(period, tuple) and period:
        # The person's own calendar days, in the zone the times below are shown in.
        end = period[1] if len(period) > 1 else period[0]
        since, until = time_zones.days_between(period[0], end, principal.zone)
    if view == "Who accessed a report":
        report = left.text_input("Report number", key="audit_report")
        return audit_review.AuditFilter(target_type="report", target_id=report.strip() or "-",
                                         actions=audit_review.ACCESS_ACTIONS, since=since, until=until)
    actor = left.text_input("Actor email", key="audit_actor")
    if view == "What a user did":
        return audit_review.AuditFilter(actor=actor or "-", since=since, until=until)
    labels = middle.multiselect("Actions", audit_review.action_labels(), key="audit_actions",
                                placeholder="All actions")
    more_left, more_middle, more_right = st.columns([2, 2, 2])
    target_type = more_left.selectbox("Target", _TARGETS, key="audit_target_type",
                                      format_func=lambda t: audit_words.TARGET_KINDS.get(t, "Any target"))
    target_id = more_middle.text_input("Target id", key="audit_target_id")
    outcome = more_right.selectbox("Outcome", _OUTCOMES, key="audit_outcome",
                                   format_func=lambda o: o.capitalize() or "Any outcome")
    return audit_review.AuditFilter(actor=actor, labels=tuple(labels), since=since, until=until,
                                     target_type=target_type, target_id=target_id, outcome=outcome)


def _tools(principal: Principal, where: audit_review.AuditFilter) -> None:
    db, resume = runtime.database(), runtime.principal_at_click()
    left, right = st.columns(2)
    left.download_button("Export these events (CSV)", key="audit_export", mime="text/csv",
                         data=lambda: audit_review.export_csv(db, resume(), where=where),
                         file_name="audit-events.csv", on_click="ignore")
    if right.button("Verify the audit chain", key="audit_verify"):
        result = audit_chain.check(db, principal)
        if result.intact:
            st.success(f"The audit chain is intact: {plural(result.checked, 'event', 'events')} checked.")
        else:
            st.error(f"The audit chain is broken at event {result.first_bad_id}: that event or the "
                     "one before it was changed, removed or inserted outside the portal.")


@st.fragment
def _results(where: audit_review.AuditFilter) -> None:
    principal = runtime.current_principal()
    if principal is None:
        st.rerun()  # the whole app then shows the sign-in screen
    signature = repr(where)
    if st.session_state.get(_SIGNATURE_KEY) != signature:
        st.session_state[_SIGNATURE_KEY] = signature
        st.session_state[_CURSORS_KEY] = [None]
    cursors = st.session_state[_CURSORS_KEY]
    page = audit_review.search(runtime.database(), principal, where=where, before=cursors[-1])
    if not page.events:
        st.info("No audit events match these filters.")
        return
    def local(moment):
        return components.local_time(moment, principal)

    st.dataframe(pd.DataFrame([{
        "Time": local(line.event.occurred_at), "Actor": line.event.actor_email or "",
        "What happened": line.sentence, "Outcome": line.event.outcome.capitalize(),
        "Details": line.details(local),
    } for line in page.lines]), width="stretch", hide_index=True,
        column_config={"What happened": st.column_config.TextColumn(width="large"),
                       "Details": st.column_config.TextColumn(width="large")})
    previous, label, following = st.columns([1, 2, 1])
    # Callbacks move the page before the rerun they cause, whichever kind of rerun it is.
    previous.button("Previous", disabled=len(cursors) == 1, key="audit_previous", on_click=cursors.pop)
    label.caption(f"Page {len(cursors)}")
    following.button("Next", disabled=page.next_cursor is None, key="audit_next",
                     on_click=cursors.append, args=(page.next_cursor,))


def render(principal: Principal) -> None:
    components.guard(principal, Action.REVIEW_AUDIT)
    st.title("Audit trail")
    st.caption("Every sign-in, administrative change, report opened or downloaded, and refused "
               "action, in words, with the people and places named. Times and dates are in your "
               "time zone (My account); the export is in UTC.")
    where = _filter(principal)
    _tools(principal, where)
    _results(where)
