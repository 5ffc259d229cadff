"""Saved searches on the Reports screen: "Save this search" beside the filters, and a saved
search opened from Home put into the filter form and the results.

Opening happens on Home (the click there marks the search looked at); the opened filter waits in
session state until the Reports filters are drawn next, then fills every filter field, so the
form shows exactly the search the results come from, whichever saved search was opened last.
"""

from __future__ import annotations

import streamlit as st

from pages.common import links, runtime
from pages.common.actions import run_action, show_message
from pages.screens import report_bundle, report_selection, report_view, reports_keys
from services.principals import Principal
from services.reports import periods, saved_searches
from services.reports.saved_searches import OpenedSearch
from services.reports.search import FilterChoices, ReportFilter

# The Reports screen's own keys (pages/screens/reports.py): the search, its pages, its count.
_FILTER_KEY, _CURSORS_KEY, _COUNT_KEY = (reports_keys.FILTER_KEY, reports_keys.CURSORS_KEY,
                                          reports_keys.COUNT_KEY)
# The saved search opened on Home, waiting for the Reports filters: (user id, OpenedSearch).
OPENING_KEY = "saved_search_opening"
NAME_KEY = "saved_search_new_name"
_MESSAGE_KEY = "saved_search_saved_message"
# The filter form's answers for the search's read state and injury (as the form words them).
_READ_LABELS = {"all": "All", "new": "New (not opened by me)", "opened": "Opened"}
_INJURY_LABELS = {None: "All", True: "Injury", False: "Non-injury"}


def open_on_reports(saved_search_id: int) -> None:
    """Home's Open: mark it looked at, then show Reports with its filters (refusals say why)."""
    done = run_action(lambda principal: (principal.user_id, saved_searches.open(
        runtime.database(), principal, saved_search_id=saved_search_id)))
    reports_screen = links.page("reports")
    if done is not None and reports_screen is not None:
        st.session_state[OPENING_KEY] = done.result
        st.switch_page(reports_screen)


def offer(principal: Principal, choices: FilterChoices) -> None:
    """On Reports, above the filters: apply a search opened on Home, then offer to save."""
    opening = st.session_state.pop(OPENING_KEY, None)
    if opening is not None and opening[0] == principal.user_id:
        _apply(opening[1])
    show_message(_MESSAGE_KEY)
    with st.popover("Save this search"):
        with st.form("save_search", border=False):
            st.text_input("Name this search", key=NAME_KEY, max_chars=saved_searches.NAME_LENGTH,
                          placeholder="e.g. Drug tests")
            st.caption("Saves the search the results come from (after changing a filter, press "
                       "Search first). Home then shows how many reports are new in it since you "
                       f"last looked. You can keep up to {saved_searches.MAX_PER_PERSON}.")
            st.form_submit_button("Save search", on_click=_save)


def _save() -> None:
    typed = st.session_state
    report_filter = typed.get(_FILTER_KEY) or ReportFilter()
    done = run_action(lambda principal: saved_searches.save(
        runtime.database(), principal, name=typed.get(NAME_KEY, ""), report_filter=report_filter,
        posted_preset=typed.get("f_posted_preset")),
        success="Search saved: Home lists it under Saved searches.", message_key=_MESSAGE_KEY)
    if done is not None:
        st.session_state[NAME_KEY] = ""


def _apply(opened: OpenedSearch) -> None:
    """The opened search becomes the Reports search, and every filter field shows its value."""
    f = opened.report_filter
    state = st.session_state
    state["f_types"] = list(f.report_types)
    if opened.posted_preset:
        state["f_posted_preset"], state["f_posted"] = opened.posted_preset, ()
    elif f.posted_from or f.posted_to:
        state["f_posted_preset"] = periods.CUSTOM_RANGE
        state["f_posted"] = tuple(day for day in (f.posted_from, f.posted_to) if day)
    else:
        state["f_posted_preset"], state["f_posted"] = periods.ANY_TIME, ()
    state["f_service"] = tuple(day for day in (f.service_from, f.service_to) if day)
    state["f_name"] = f.patient_name
    state["f_employee"] = f.employee_id
    state["f_report_number"] = "" if f.report_id is None else str(f.report_id)
    state["f_account"] = f.account_id
    state["f_provider"] = f.provider_id
    state["f_state"] = f.state or None
    state["f_read"] = _READ_LABELS[f.read]
    state["f_status"] = list(f.statuses)
    state["f_injury"] = _INJURY_LABELS[f.injury]
    # As a search does: its first page, counted afresh, nothing chosen or open from before.
    state[_FILTER_KEY] = f
    state[_CURSORS_KEY] = [None]
    state.pop(_COUNT_KEY, None)
    report_selection.forget()
    report_view.close()
    report_bundle.forget()
