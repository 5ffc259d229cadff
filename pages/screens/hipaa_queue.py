"""HIPAA queue: reports received in error, oldest first; one incident's review and decision."""

from __future__ import annotations


import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, say, show_message
from pages.common.selection import Choice
from pages.screens import hipaa_incident
from pages.screens.hipaa_incident import MESSAGE_KEY, STATUS, act
from services import clock, time_zones
from services.hipaa import NOTIFICATION_PERIOD
from services.policy import Action
from services.principals import Principal
from services.privacy import incidents
from services.statuses import IncidentStatus
from services.wording import period

# Session state: the incident open below the grid, kept by id (see pages.common.selection).
_CHOICE = Choice(grid_key="incident_grid", chosen_key="incident_selected",
                 label=lambda incident_id: f"Incident {incident_id}")


def _take_next() -> None:
    done = run_action(lambda principal: incidents.claim_next(runtime.database(), principal),
                      message_key=MESSAGE_KEY)
    if done is None:
        return
    if done.result:
        say("success", f"Incident {done.result} is yours.", message_key=MESSAGE_KEY)
        _CHOICE.choose(done.result)
    else:
        say("info", "Nothing left to take.", message_key=MESSAGE_KEY)


def render(principal: Principal) -> None:
    components.guard(principal, Action.TRIAGE_INCIDENTS)
    st.title("HIPAA queue")
    st.caption("Reports received in error. The notification deadline is "
               f"{period(NOTIFICATION_PERIOD, 'days')} after discovery.")
    show_message(MESSAGE_KEY)
    confirm.show_pending()
    left, middle, right = st.columns([2, 2, 1])
    status = left.selectbox("Status", [choice.value for choice in IncidentStatus], index=None,
                            format_func=STATUS.get, key="incident_status",
                            placeholder="Open and in review")
    mine = middle.toggle("Only mine", key="incident_mine")
    right.button("Take the next one", key="incident_take_next", on_click=_take_next)
    _export(principal)
    _phone_report()
    rows = incidents.queue(runtime.database(), principal, status=status,
                           assignee_id=principal.user_id if mine else None)
    if not rows:
        _CHOICE.resolve([])
        st.info("No incidents here.")
        return
    now = clock.now()
    chosen = _CHOICE.grid(pd.DataFrame([{
        "Incident": r.id, "Report #": r.report_id, "Received in error by": r.wrong_account,
        "Status": STATUS[r.status], "Assignee": r.assignee or "nobody yet",
        "Age (days)": (now - r.discovered_at).days, "Days left to notify": r.days_left(now),
    } for r in rows]), [r.id for r in rows])
    if chosen:
        hipaa_incident.render(principal, chosen[0])


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
                    act("Incident opened", incidents.log_phone_report, report_id=int(report_id),
                        account_id=named.result, note=note)
                    st.rerun()


def _export(principal: Principal) -> None:
    if not principal.can(Action.DECIDE_INCIDENTS):
        return
    with st.expander("Export incidents (privacy log)"):
        period = st.date_input("Discovered between", value=(), key="incident_export_period")
        if isinstance(period, (tuple, list)) and len(period) == 2:
            db, resume, (first, last) = runtime.database(), runtime.principal_at_click(), period
            # The person's own calendar days; the file's times are UTC, as its headers say.
            start, end = time_zones.days_between(first, last, principal.zone)

            def build() -> bytes:
                return incidents.export_csv(db, resume(), start=start, end=end)

            st.download_button("Download CSV", data=build, file_name=f"incidents_{first}_{last}.csv",
                               mime="text/csv", on_click="ignore", key="incident_export")
