"""Accounting of disclosures: find a patient, produce where their reports went and who there
opened them over a period, and download it as PDF or CSV (each production recorded)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from services import clock
from services.errors import DomainError
from services.policy import Action
from services.principals import Principal
from services.privacy import disclosure_files, disclosures
from services.wording import plural

# Session state: the patients found (by id), the chosen patient's id, the accounting shown.
_MATCHES_KEY = "disclosures_matches"
_SEARCHES_KEY = "disclosures_searches"
_SHOWN_KEY = "disclosures_shown"


def _find() -> None:
    with st.form("disclosures_find"):
        left, middle, right = st.columns([3, 2, 2])
        name = left.text_input("Patient name", key="disclosures_name",
                               help="Words of the first or last name, e.g. 'jo smi'.")
        born = middle.date_input("Date of birth", value=None, min_value=date(1900, 1, 1),
                                 max_value=clock.now().date(), key="disclosures_born")
        employee_id = right.text_input("Employee ID", key="disclosures_employee")
        if not st.form_submit_button("Find patient"):
            return
    try:
        found = disclosures.find_patients(runtime.database(), runtime.principal_at_click()(),
                                          name=name, date_of_birth=born, employee_id=employee_id)
    except DomainError as error:
        st.error(str(error))
        return
    st.session_state[_MATCHES_KEY] = {match.id: match for match in found}
    # A new search is a new list: the picker starts empty and nothing earlier stays shown.
    st.session_state[_SEARCHES_KEY] = st.session_state.get(_SEARCHES_KEY, 0) + 1
    st.session_state.pop(_SHOWN_KEY, None)


def _label(match: disclosures.PatientMatch) -> str:
    employer = f", {match.employer}" if match.employer else ""
    return (f"{match.name}, born {match.date_of_birth:%Y-%m-%d}, employee ID {match.employee_id}"
            f"{employer} ({plural(match.reports, 'report', 'reports')})")


def _chosen() -> disclosures.PatientMatch | None:
    matches: dict[int, disclosures.PatientMatch] | None = st.session_state.get(_MATCHES_KEY)
    if matches is None:
        return None
    if not matches:
        st.info("No patient matches all of these details.")
        return None
    st.dataframe(pd.DataFrame([{
        "Patient": m.name, "Date of birth": f"{m.date_of_birth:%Y-%m-%d}",
        "Employee ID": m.employee_id, "Employer": m.employer, "Reports": m.reports,
    } for m in matches.values()]), hide_index=True, width="stretch",
        key=f"disclosures_found_{st.session_state.get(_SEARCHES_KEY, 0)}")
    if len(matches) == disclosures.MAX_MATCHES:
        st.caption(f"The first {disclosures.MAX_MATCHES} matches: narrow the search to see others.")
    patient_id = st.selectbox("Patient", list(matches), index=None, format_func=lambda i: _label(matches[i]),
                              placeholder="Choose the patient",
                              key=f"disclosures_patient_{st.session_state.get(_SEARCHES_KEY, 0)}")
    return None if patient_id is None else matches[patient_id]


def _period(principal: Principal, patient_id: int) -> tuple[date, date] | None:
    start, today = disclosures.default_period(clock.now().astimezone(principal.zone).date())
    period = st.date_input("Period", value=(start, today), max_value=today,
                           min_value=date(1990, 1, 1), key=f"disclosures_period_{patient_id}",
                           help="Six years to today unless you choose otherwise; days in your "
                                "time zone.")
    if not isinstance(period, tuple) or len(period) != 2:
        st.caption("Choose the first and the last day of the period.")
        return None
    return period[0], period[1]


def _show(shown: disclosures.Accounting) -> None:
    st.subheader("Accounting of disclosures")
    components.literal(f"Patient: {shown.patient_name}, born {shown.date_of_birth:%Y-%m-%d}, "
                       f"employee ID {shown.employee_id} (patient {shown.patient_id})")
    components.literal(f"Period: {shown.start:%Y-%m-%d} to {shown.end:%Y-%m-%d}, times in "
                       f"{shown.zone}. Produced "
                       f"{disclosure_files.when(shown, shown.produced_at)} by {shown.produced_by}.")
    components.literal(f"{plural(shown.reports, 'report', 'reports')}; "
                       f"{plural(len(shown.lines), 'line', 'lines')} in the period.")
    if not shown.lines:
        st.info("Nothing was delivered, opened or downloaded in this period.")
    else:
        st.dataframe(pd.DataFrame([{
            "When": disclosure_files.when(shown, line.at), "Report": line.report_id,
            "Type and service date": line.report, "What": line.what, "Account": line.account,
            "Person": line.person, "Email": line.email, "Note": line.note,
        } for line in shown.lines]), hide_index=True, width="stretch",
            key=f"disclosures_lines_{shown.patient_id}")
    db, resume = runtime.database(), runtime.principal_at_click()
    left, right = st.columns(2)
    for column, file_format, label in ((left, "pdf", "Download PDF"), (right, "csv", "Download CSV")):
        column.download_button(
            label, key=f"disclosures_{file_format}", on_click="ignore",
            mime=disclosure_files.FORMATS[file_format],
            file_name=disclosure_files.file_name(shown.patient_id, shown.start, shown.end,
                                                 file_format),
            data=lambda file_format=file_format: disclosure_files.download(
                db, resume(), patient_id=shown.patient_id, start=shown.start, end=shown.end,
                file_format=file_format)[1])


def render(principal: Principal) -> None:
    components.guard(principal, Action.ACCOUNT_FOR_DISCLOSURES)
    st.title("Accounting of disclosures")
    st.caption("For a patient who asks where their reports went (HIPAA, 45 CFR 164.528): each "
               "report's deliveries to client accounts, every opening, preview and download by a "
               "named person, corrections, withdrawals and removals of reports received in error, "
               "in date order. Producing it, and each download, is recorded in the audit trail.")
    _find()
    match = _chosen()
    if match is None:
        return
    period = _period(principal, match.id)
    if period is None:
        return
    wanted = (match.id, *period)
    if st.button("Produce the accounting", type="primary", key="disclosures_produce"):
        try:
            st.session_state[_SHOWN_KEY] = disclosures.account(
                runtime.database(), runtime.principal_at_click()(), patient_id=match.id,
                start=period[0], end=period[1])
        except DomainError as error:
            st.session_state.pop(_SHOWN_KEY, None)
            st.error(str(error))
    shown: disclosures.Accounting | None = st.session_state.get(_SHOWN_KEY)
    if shown is None:
        return
    if (shown.patient_id, shown.start, shown.end) != wanted:
        # The accounting belongs to the patient and period it was produced for.
        st.caption("The accounting produced earlier was for another patient or period: "
                   "produce it for this one.")
        return
    _show(shown)
