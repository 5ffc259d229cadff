"""HIPAA queue: reports received in error, oldest first; one incident's review and decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action, say, show_message
from services import clock
from services.errors import DomainError
from services.hipaa import NOTIFICATION_PERIOD
from services.policy import Action
from services.principals import Principal
from services.privacy import incidents
from services.statuses import IncidentStatus
from services.wording import period

# Session state: the message a click leaves for the next run, and the incident open below.
_MESSAGE_KEY = "incident_message"
_SELECTED = "incident_selected"
_STATUS = {IncidentStatus.OPEN: "Open", IncidentStatus.IN_REVIEW: "In review",
           IncidentStatus.CLOSED: "Closed"}


def _act(label: str, action: Callable[..., object], **kwargs) -> None:
    run_action(lambda principal: action(runtime.database(), principal, **kwargs),
               success=f"{label}.", message_key=_MESSAGE_KEY)


def _take_next() -> None:
    done = run_action(lambda principal: incidents.claim_next(runtime.database(), principal),
                      message_key=_MESSAGE_KEY)
    if done is None:
        return
    if done.result:
        say("success", f"Incident {done.result} is yours.", message_key=_MESSAGE_KEY)
        st.session_state[_SELECTED] = done.result
    else:
        say("info", "Nothing left to take.", message_key=_MESSAGE_KEY)


def render(principal: Principal) -> None:
    components.guard(principal, Action.TRIAGE_INCIDENTS)
    st.title("HIPAA queue")
    st.caption("Reports received in error. The notification deadline is "
               f"{period(NOTIFICATION_PERIOD, 'days')} after discovery.")
    show_message(_MESSAGE_KEY)
    left, middle, right = st.columns([2, 2, 1])
    status = left.selectbox("Status", [choice.value for choice in IncidentStatus], index=None,
                            format_func=_STATUS.get, key="incident_status",
                            placeholder="Open and in review")
    mine = middle.toggle("Only mine", key="incident_mine")
    right.button("Take the next one", key="incident_take_next", on_click=_take_next)
    _export(principal)
    _phone_report()
    rows = incidents.queue(runtime.database(), principal, status=status,
                           assignee_id=principal.user_id if mine else None)
    if not rows:
        st.info("No incidents here.")
        return
    now = clock.now()
    event = st.dataframe(pd.DataFrame([{
        "Incident": r.id, "Report #": r.report_id, "Received in error by": r.wrong_account,
        "Status": _STATUS[r.status], "Assignee": r.assignee or "nobody yet",
        "Age (days)": (now - r.discovered_at).days, "Days left to notify": r.days_left(now),
    } for r in rows]), hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row", key=f"incident_grid_{status}_{mine}")
    if event.selection.rows:
        st.session_state[_SELECTED] = rows[event.selection.rows[0]].id
    chosen = st.session_state.get(_SELECTED)
    if chosen is not None:
        _incident(principal, chosen)


def _incident(principal: Principal, incident_id: int) -> None:
    try:
        found = incidents.detail(runtime.database(), principal, incident_id=incident_id)
    except DomainError as error:
        st.error(str(error))
        return
    with st.container(border=True):
        st.subheader(f"Incident {found.id}: {_STATUS[found.status]}")
        facts = [
            ("Report", f"{found.report_type}, service date {found.service_date}, report {found.report_id}"),
            ("Provider", found.provider),
            ("Received in error by", found.wrong_account),
            ("Reported", f"{components.utc(found.discovered_at)} by {found.reported_by or '—'} "
                         f"({found.channel})"),
            ("Removed from their view", components.utc(found.removed_at) or "not yet"),
            ("Notify by", components.utc(found.deadline)),
            ("Now sent to", ", ".join(found.recipients_now) or "nobody"),
            ("Assignee", found.assignee or "nobody yet"),
            ("Note", found.note or "—"),
        ]
        components.literal_list([f"{k}: {v}" for k, v in facts])
        st.caption("The report's content is not shown here. To read it, open report "
                   f"{found.report_id} on the Reports screen with the purpose 'HIPAA incident "
                   "review' (recorded in the audit trail).")
        if found.status == IncidentStatus.OPEN:
            st.button("Take this incident", key="incident_claim", on_click=_act,
                      args=("Taken", incidents.claim), kwargs={"incident_id": found.id})
        confirmed = found.assessment.get("removal_confirmed_by")
        if confirmed:
            st.caption(f"Removal confirmed by {confirmed}.")
        elif found.status != IncidentStatus.CLOSED:
            st.button("Confirm removal from their view", key="incident_confirm_removal",
                      on_click=_act, args=("Removal confirmed", incidents.confirm_removal),
                      kwargs={"incident_id": found.id})
        history = incidents.access_history(runtime.database(), principal, incident_id=found.id)
        st.markdown("**What the wrong account did with it**")
        if history:
            st.dataframe(pd.DataFrame([{"When": components.utc(a.at), "Who": a.who,
                                        "What": a.action.removeprefix("report.")} for a in history]),
                         hide_index=True, width="stretch")
        else:
            st.caption("Nobody at that account opened, previewed or downloaded it.")
        _reroute(principal, found)
        if principal.can(Action.DECIDE_INCIDENTS):
            _decide(found)


def _reroute(principal: Principal, found: incidents.IncidentDetail) -> None:
    accounts = incidents.reroute_choices(runtime.database(), principal, incident_id=found.id)
    left, right = st.columns([4, 1])
    target = left.selectbox("Send the report to the right account", list(accounts), index=None,
                            format_func=accounts.get, key="incident_reroute",
                            placeholder="Choose the account that should have it")
    right.button("Re-route", key="incident_reroute_go", disabled=target is None, on_click=_act,
                 args=("Re-routed", incidents.reroute),
                 kwargs={"incident_id": found.id, "account_id": target})


def _phone_report() -> None:
    with st.expander("Log a report received in error by phone"):
        with st.form("phone_report", clear_on_submit=True):
            left, right = st.columns(2)
            report_id = left.number_input("Report number", min_value=1, step=1, key="phone_report_id")
            account = right.text_input("Account that received it in error (exact name)",
                                       key="phone_account")
            note = st.text_area("What the caller said", key="phone_note", max_chars=1000)
            if st.form_submit_button("Remove it from that account and open an incident"):
                named = run_action(lambda principal: incidents.account_named(
                    runtime.database(), principal, account))
                if named:
                    _act("Incident opened", incidents.log_phone_report, report_id=int(report_id),
                         account_id=named.result, note=note)
                    st.rerun()


def _export(principal: Principal) -> None:
    if not principal.can(Action.DECIDE_INCIDENTS):
        return
    with st.expander("Export incidents (privacy log)"):
        period = st.date_input("Discovered between", value=(), key="incident_export_period")
        if isinstance(period, (tuple, list)) and len(period) == 2:
            db, resume, (first, last) = runtime.database(), runtime.principal_at_click(), period

            def build() -> bytes:
                start = datetime.combine(first, time.min, tzinfo=timezone.utc)
                end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=timezone.utc)
                return incidents.export_csv(db, resume(), start=start, end=end)

            st.download_button("Download CSV", data=build, file_name=f"incidents_{first}_{last}.csv",
                               mime="text/csv", on_click="ignore", key="incident_export")


def _decide(found: incidents.IncidentDetail) -> None:
    if found.status == IncidentStatus.CLOSED:
        components.literal(f"Closed: {found.resolution}")
        st.button("Reopen", key="incident_reopen", on_click=_act, args=("Reopened", incidents.reopen),
                  kwargs={"incident_id": found.id})
        return
    with st.form("assessment"):
        st.markdown("**Risk assessment (four factors)**")
        factors = {key: st.text_area(label, value=found.assessment.get(key, ""), key=f"factor_{key}")
                   for key, label in incidents.FACTORS.items()}
        attested = st.checkbox("The recipient attested that every copy was destroyed",
                               value=bool(found.assessment.get("attested_destroyed")), key="attested")
        outcome = st.radio("Outcome", list(incidents.OUTCOMES), format_func=incidents.OUTCOMES.get,
                           index=list(incidents.OUTCOMES).index(found.outcome) if found.outcome else None,
                           key="incident_outcome")
        if st.form_submit_button("Save assessment"):
            _act("Assessment saved", incidents.assess, incident_id=found.id, factors=factors,
                 outcome=outcome or "", attested_destroyed=attested)
            st.rerun()
    with st.form("notification"):
        left, right = st.columns(2)
        people = left.date_input("Affected people notified on", value=None, key="notified_people")
        hhs = right.date_input("HHS notified on", value=None, key="notified_hhs")
        if st.form_submit_button("Save notification dates"):
            _act("Notification dates saved", incidents.record_notification, incident_id=found.id,
                 individuals_on=people, authority_on=hhs)
            st.rerun()
    with st.form("closing"):
        resolution = st.text_area("Resolution", key="incident_resolution")
        if st.form_submit_button("Close the incident"):
            _act("Closed", incidents.close, incident_id=found.id, resolution=resolution)
            st.rerun()
