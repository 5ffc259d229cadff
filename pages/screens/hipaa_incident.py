"""One incident of the HIPAA queue: its facts, its review and the privacy officer's decision.

Every widget's key names the incident, so switching incident shows that incident's saved
values and never what was typed for another one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from pages.common import components, confirm, links, runtime
from pages.common.actions import attempt, run_action
from services.errors import DomainError
from services.policy import Action
from services.principals import Principal
from services.privacy import incidents
from services.statuses import IncidentStatus

# Session state: the message a click leaves for the next run.
MESSAGE_KEY = "incident_message"
STATUS = {IncidentStatus.OPEN: "Open", IncidentStatus.IN_REVIEW: "In review",
          IncidentStatus.CLOSED: "Closed"}


def act(label: str, action: Callable[..., object], **kwargs) -> None:
    # The message names the incident: after a close or reopen it has often left the list.
    incident_id = kwargs.get("incident_id")
    said = f"Incident {incident_id}: {label.lower()}." if incident_id else f"{label}."
    run_action(lambda principal: action(runtime.database(), principal, **kwargs),
               success=said, message_key=MESSAGE_KEY)


def render(principal: Principal, incident_id: int) -> None:
    try:
        found = incidents.detail(runtime.database(), principal, incident_id=incident_id)
    except DomainError as error:
        st.error(str(error))
        return
    with st.container(border=True, key=f"incident_panel_{found.id}"):
        st.header(f"Incident {found.id}: {STATUS[found.status]}")
        components.literal_list([f"{k}: {v}" for k, v in _facts(principal, found)])
        _report_link(principal, found)
        if found.status == IncidentStatus.OPEN:
            st.button("Take this incident", key=f"incident_claim_{found.id}", on_click=act,
                      args=("Taken", incidents.claim), kwargs={"incident_id": found.id})
        confirmed = found.assessment.get("removal_confirmed_by")
        if confirmed:
            components.literal(f"Removal confirmed by {confirmed}.")
        elif found.status != IncidentStatus.CLOSED:
            st.button("Confirm removal from their view", key=f"incident_confirm_removal_{found.id}",
                      on_click=act, args=("Removal confirmed", incidents.confirm_removal),
                      kwargs={"incident_id": found.id})
        _history(principal, found)
        _reroute(principal, found)
        if principal.can(Action.DECIDE_INCIDENTS):
            _decide(found)


def _report_link(principal: Principal, found: incidents.IncidentDetail) -> None:
    """The report itself opens on the Reports screen, its purpose chosen; opening it is audited."""
    reports_screen = links.page("reports") if principal.can(Action.VIEW_REPORTS) else None
    if reports_screen is None:
        st.caption("The report's content is not shown here.")
        return
    st.caption("The report's content is not shown here. The link opens it on the Reports screen "
               f"with the purpose 'HIPAA incident review' and the reference INC-{found.id} chosen "
               "(recorded in the audit trail when you open it).")
    st.page_link(reports_screen, label=f"Open report {found.report_id} for review",
                 query_params={"report": str(found.report_id), "incident": str(found.id)})


def _facts(principal: Principal, found: incidents.IncidentDetail) -> list[tuple[str, str]]:
    return [
        ("Report", f"{found.report_type}, service date {found.service_date}, report {found.report_id}"),
        ("Provider", found.provider),
        ("Received in error by", found.wrong_account),
        ("Reported", f"{components.local_time(found.discovered_at, principal)} by {found.reported_by or '—'} "
                     f"({found.channel})"),
        ("Removed from their view", components.local_time(found.removed_at, principal) or "not yet"),
        ("Notify by", components.local_time(found.deadline, principal)),
        ("Now sent to", ", ".join(found.recipients_now) or "nobody"),
        ("Assignee", found.assignee or "nobody yet"),
        ("Note", found.note or "—"),
    ]


def _history(principal: Principal, found: incidents.IncidentDetail) -> None:
    history = incidents.access_history(runtime.database(), principal, incident_id=found.id)
    st.markdown("**What the wrong account did with it**")
    if history:
        st.dataframe(pd.DataFrame([{"When": components.local_time(a.at, principal), "Who": a.who,
                                    "What": a.action.removeprefix("report.")} for a in history]),
                     hide_index=True, width="stretch", key=f"incident_history_{found.id}")
    else:
        st.caption("Nobody at that account opened, previewed or downloaded it.")


def _reroute(principal: Principal, found: incidents.IncidentDetail) -> None:
    accounts = incidents.reroute_choices(runtime.database(), principal, incident_id=found.id)
    left, right = st.columns([4, 1])
    target = left.selectbox("Send the report to the right account", list(accounts), index=None,
                            format_func=accounts.get, key=f"incident_reroute_{found.id}",
                            placeholder="Choose the account that should have it")
    right.button("Re-route", key=f"incident_reroute_go_{found.id}", disabled=target is None,
                 on_click=act, args=("Re-routed", incidents.reroute),
                 kwargs={"incident_id": found.id, "account_id": target})


def _decide(found: incidents.IncidentDetail) -> None:
    if found.status == IncidentStatus.CLOSED:
        components.literal(f"Closed: {found.resolution}")
        st.button("Reopen", key=f"incident_reopen_{found.id}", on_click=confirm.ask,
                  args=(confirm.Question(
                      title="Reopen this incident?", lines=(
                          _named(found),
                          "Reopening puts it back in review in the open queue, under its "
                          "assignee; its assessment and resolution are kept."),
                      confirm=f"Reopen incident {found.id}",
                      act=partial(act, "Reopened", incidents.reopen, incident_id=found.id)),))
        return
    _assessment(found)
    _notification(found)
    _closing(found)


def _assessment(found: incidents.IncidentDetail) -> None:
    saved, at = found.assessment, found.id
    with st.form(f"assessment_{at}"):
        st.markdown("**Risk assessment (four factors)**")
        for key, label in incidents.FACTORS.items():
            st.text_area(label, value=saved.get(key, ""), key=f"factor_{key}_{at}")
        st.checkbox("The recipient attested that every copy was destroyed",
                    value=bool(saved.get("attested_destroyed")), key=f"attested_{at}")
        st.radio("Outcome", list(incidents.OUTCOMES), format_func=incidents.OUTCOMES.get,
                 index=list(incidents.OUTCOMES).index(found.outcome) if found.outcome else None,
                 key=f"incident_outcome_{at}")
        st.form_submit_button("Save assessment", on_click=_save_assessment, args=(at,))


def _save_assessment(incident_id: int) -> None:
    typed = st.session_state
    act("Assessment saved", incidents.assess, incident_id=incident_id,
        factors={key: typed.get(f"factor_{key}_{incident_id}") or "" for key in incidents.FACTORS},
        outcome=typed.get(f"incident_outcome_{incident_id}") or "",
        attested_destroyed=bool(typed.get(f"attested_{incident_id}")))


def _notification(found: incidents.IncidentDetail) -> None:
    saved, at = found.assessment, found.id
    with st.form(f"notification_{at}"):
        left, right = st.columns(2)
        left.date_input("Affected people notified on", value=_day(saved.get("individuals_notified_on")),
                        key=f"notified_people_{at}")
        right.date_input("HHS notified on", value=_day(saved.get("hhs_notified_on")),
                         key=f"notified_hhs_{at}")
        st.form_submit_button("Save notification dates", on_click=_save_notification, args=(at,))


def _day(saved: str | None) -> date | None:
    return date.fromisoformat(saved) if saved else None


def _save_notification(incident_id: int) -> None:
    typed = st.session_state
    act("Notification dates saved", incidents.record_notification, incident_id=incident_id,
        individuals_on=typed.get(f"notified_people_{incident_id}"),
        authority_on=typed.get(f"notified_hhs_{incident_id}"))


def _closing(found: incidents.IncidentDetail) -> None:
    at = found.id
    with st.form(f"closing_{at}"):
        st.text_area("Resolution", value=found.resolution, key=f"incident_resolution_{at}")
        unassessed = found.outcome is None
        if unassessed:
            st.caption("Save the risk assessment first: an incident closes only once assessed.")
        st.form_submit_button("Close the incident", disabled=unassessed, on_click=_ask_to_close,
                              args=(found,))


def _ask_to_close(found: incidents.IncidentDetail) -> None:
    typed = st.session_state.get(f"incident_resolution_{found.id}") or ""
    kept = attempt(lambda: incidents.resolution_of(typed), message_key=MESSAGE_KEY)
    if kept is None:
        return
    confirm.ask(confirm.Question(
        title="Close this incident?",
        lines=(_named(found),
               "Closing records this resolution and takes the incident out of the open queue. "
               "It can be reopened later.",
               f"Resolution: {kept.result}"),
        confirm=f"Close incident {found.id}",
        act=partial(act, "Closed", incidents.close, incident_id=found.id, resolution=kept.result)))


def _named(found: incidents.IncidentDetail) -> str:
    """The incident as a question names it: its report and the account that received it."""
    named = (f"Incident {found.id}: report {found.report_id} ({found.report_type}, service date "
             f"{found.service_date}), received in error by {found.wrong_account}")
    # An account named "Harborline Freight Co." ends the sentence itself.
    return named if named.endswith(".") else named + "."
