"""The reports chosen on the Reports screen: a set of report ids that outlives the page shown.

A person ticks rows on one page, turns to the next and ticks more, or takes every result of the
search at once; the download then takes exactly those reports. The grid shows one page, so it
answers only for the part of the selection on that page (pages.common.selection keeps its ticks
on ids); the rest stays as it was. A report that leaves the page the person is looking at (a
"New" list, once it is opened) is let go with a note, as on every list here. A new search
starts with nothing chosen.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import runtime
from pages.common.selection import Choice
from pages.screens import reports_keys
from services import settings
from services.errors import DomainError
from services.principals import Principal
from services.reports import search
from services.reports.search import ReportFilter
from services.wording import plural

# The whole selection, in the order the reports were chosen.
SELECTED_KEY = "reports_selected"
# The part of it on the page the grid shows (the grid's own choice, kept by id).
_ON_PAGE_KEY = "reports_ticked_on_page"
_TICKS = Choice(grid_key="reports_grid", chosen_key=_ON_PAGE_KEY, multi=True,
                label=lambda report_id: f"Report {report_id}")
# Why "Select all" did not select (shown once, beside the button).
_REFUSED_KEY = "reports_select_all_refused"


def chosen() -> list[int]:
    return list(st.session_state.get(SELECTED_KEY, []))


def forget() -> None:
    """Nothing chosen (a new search, another person)."""
    st.session_state[SELECTED_KEY] = []
    _TICKS.clear()


def page_turned() -> None:
    """The grid will show other rows: its ticks follow the selection there, and nothing that
    was on the page left counts as having left the search."""
    _TICKS.start_over()


def renew() -> None:
    """Draw a new grid in the next run (a panel above it opened or closed)."""
    _TICKS.renew()


def grid(frame: pd.DataFrame, ids: list[int], column_config: dict) -> list[int]:
    """The page's grid, ticked on the chosen reports it shows; returns the whole selection."""
    selection = chosen()
    # The grid answers for the reports on this page and on the page the person last saw (the
    # same page, unless it turned): a tick or untick there, or a report that left the list.
    here = set(ids) | set(_TICKS.shown())
    st.session_state[_ON_PAGE_KEY] = [i for i in selection if i in here]
    on_page = _TICKS.grid(frame, ids, column_config=column_config) if ids else _TICKS.resolve([])
    # In the order chosen (select all: the search's order), newly ticked ones last.
    kept = set(on_page)
    st.session_state[SELECTED_KEY] = ([i for i in selection if i not in here or i in kept]
                                      + [i for i in on_page if i not in selection])
    return chosen()


def bar(principal: Principal, report_filter: ReportFilter, count: int, capped: bool) -> None:
    """ "N selected" with Clear, and "Select all N results of this search" while that fits in
    one download."""
    selected = chosen()
    limit = settings.current().bulk_download_reports
    left, right = st.columns([2, 3])
    if selected:
        left.write(f"**{plural(len(selected), 'report', 'reports')} selected**")
        left.button("Clear all selected", key="reports_clear_selection", on_click=forget)
    if capped or count > limit:
        right.caption(f"One download holds at most {limit:,} reports: narrow the search to "
                      "select all its results at once.")
    elif count > 1 and len(selected) < count:
        right.button(f"Select all {count:,} results of this search", key="reports_select_all",
                     on_click=_select_all, args=(principal, report_filter, limit))
    refused = st.session_state.pop(_REFUSED_KEY, None)
    if refused:
        right.error(refused)


def _select_all(principal: Principal, report_filter: ReportFilter, limit: int) -> None:
    # Asked again at the click: the search may have grown since the count was shown.
    try:
        ids, more = search.matching_ids(runtime.database(), principal, report_filter, limit=limit,
                                        purpose=st.session_state.get(reports_keys.LIST_PURPOSE_KEY))
    except DomainError as error:
        st.session_state[_REFUSED_KEY] = str(error)
        return
    if more:
        st.session_state[_REFUSED_KEY] = (
            f"This search now finds more than {limit:,} reports, the most one download holds. "
            "Narrow the search.")
        return
    st.session_state[SELECTED_KEY] = ids
