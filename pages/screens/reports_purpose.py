"""The Reports screen's first question for support and account representatives: why they are
looking at patients' reports (services/reports/list_purpose.py).

Asked once per visit. A visit, in Streamlit's terms: the runs of the Reports page in one browser
session from arriving at it until another screen runs. The answer lives in two widgets drawn on
every full run of the page; Streamlit drops a widget's value at the end of a run that does not
draw it, so opening any other screen forgets the purpose, and coming back asks again. A new tab
or a refresh is a new browser session, so it asks again too. Reruns inside the page (a search,
a page turn, a tick, an opened report) keep it.
"""

from __future__ import annotations

import streamlit as st

from pages.screens.reports_keys import LIST_PURPOSE_KEY
from services.errors import DomainError
from services.principals import Principal
from services.reports import access, list_purpose
from services.reports.list_purpose import ListPurpose

_REASON_KEY = "reports_list_reason"
_REFERENCE_KEY = "reports_list_reference"


def ask(principal: Principal) -> ListPurpose | None:
    """The visit's purpose (asking for it), or None until chosen; None for those not asked."""
    if not list_purpose.asked(principal):
        st.session_state.pop(LIST_PURPOSE_KEY, None)
        return None
    reason_column, reference_column = st.columns([3, 1])
    reason = reason_column.selectbox(
        "Why are you looking at patients' reports?", access.STAFF_PURPOSES, index=None,
        key=_REASON_KEY, placeholder="Choose a purpose (recorded with each search)")
    reference = reference_column.text_input("Ticket reference", key=_REFERENCE_KEY, max_chars=30)
    kept = st.session_state.get(LIST_PURPOSE_KEY)
    if reason is None:
        st.session_state.pop(LIST_PURPOSE_KEY, None)
        st.info("Choose a purpose to see the reports. It is recorded in the audit trail with each "
                "search you run on this visit of the screen.")
        return None
    if kept is not None and (kept.reason, kept.reference) == (reason, reference.strip()):
        return kept
    try:
        chosen = list_purpose.for_visit(access.purpose(reason, reference))
    except DomainError as error:
        st.session_state.pop(LIST_PURPOSE_KEY, None)
        st.error(str(error))
        return None
    st.session_state[LIST_PURPOSE_KEY] = chosen
    return chosen


def start_with(principal: Principal, purpose: access.Purpose | None) -> None:
    """An incident's link names its purpose: it starts chosen unless one already is."""
    if purpose is None or not list_purpose.asked(principal) or st.session_state.get(_REASON_KEY):
        return
    st.session_state[_REASON_KEY] = purpose.reason
    st.session_state[_REFERENCE_KEY] = purpose.reference


def current() -> ListPurpose | None:
    """The purpose chosen on this visit, for the parts of the screen that rerun on their own."""
    return st.session_state.get(LIST_PURPOSE_KEY)


def forget() -> None:
    st.session_state.pop(LIST_PURPOSE_KEY, None)
