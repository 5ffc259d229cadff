"""Reports: search, a page of 50 results at a time, open one, download several."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.selection import Choice
from pages.screens import report_bundle, report_view
from services.errors import DomainError
from services.policy import Action
from services.principals import Principal
from services.reports import search
from services.reports.retention import RETENTION_PERIOD
from services.reports.search import ReportFilter
from services.statuses import ReportStatus
from services.wording import period

# Session state: the search, its pages so far and its count, whose they are, and the
# ?report= link already followed. Which report is open belongs to report_view.
FILTER_KEY = "reports_filter"
CURSORS_KEY = "reports_cursors"
COUNT_KEY = "reports_count"
# The ticked reports, by id: the grid's own selection is by row position, and positions name
# other reports once the rows change (a report opened under "New", one removed in error).
SELECTED_KEY = "reports_selected"
_TICKS = Choice(grid_key="reports_grid", chosen_key=SELECTED_KEY, multi=True,
                label=lambda report_id: f"Report {report_id}")
_USER_KEY = "reports_user"
_LINKED_KEY = "reports_linked"
_INJURY = {"All": None, "Injury": True, "Non-injury": False}
_READ = {"All": "all", "New (not opened by me)": "new", "Opened": "opened"}
_STATUS_LABELS = {ReportStatus.AVAILABLE: "Available", ReportStatus.ARCHIVED: "Archived",
                  ReportStatus.WITHDRAWN: "Withdrawn"}


def _filters(principal: Principal) -> None:
    choices = search.filter_choices(runtime.database(), principal)
    with st.form("report_filters"):
        # One row of columns per line, so Tab moves in reading order along each line rather
        # than down one column and then the next.
        left, middle, right = st.columns(3)
        types = left.multiselect("Report type", list(choices.report_types),
                                 format_func=choices.report_types.get, key="f_types")
        posted = middle.date_input("Posted between", value=(), key="f_posted")
        service = right.date_input("Service date between", value=(), key="f_service")
        left, middle, right = st.columns(3)
        name = left.text_input("Patient name", key="f_name", placeholder="Last or first name")
        employee = middle.text_input("Employee ID", key="f_employee")
        number = right.text_input("Report #", key="f_report_number", placeholder="e.g. 4992")
        left, middle, right = st.columns(3)
        account = None
        if len(choices.accounts) > 1:
            account = left.selectbox("Account", list(choices.accounts), index=None,
                                     format_func=choices.accounts.get, key="f_account",
                                     placeholder="All my accounts")
        provider = None
        if choices.providers:
            provider = middle.selectbox("Provider", list(choices.providers), index=None,
                                        format_func=choices.providers.get, key="f_provider",
                                        placeholder="All providers")
        state = right.selectbox("State", choices.states, index=None, key="f_state",
                                placeholder="All states") if choices.states else None
        left, middle, right = st.columns(3)
        read = left.radio("Show", list(_READ), horizontal=True, key="f_read")
        statuses: list[str] = []
        if choices.statuses:
            statuses = middle.multiselect("Status", list(choices.statuses),
                                          format_func=_STATUS_LABELS.get, key="f_status",
                                          placeholder="Any status")
        injury = right.radio("Injury", list(_INJURY), horizontal=True, key="f_injury")
        if st.form_submit_button("Search", type="primary"):
            try:
                report_id = search.report_number(number)
            except DomainError as error:
                st.error(str(error))
                return
            st.session_state[FILTER_KEY] = ReportFilter(
                report_types=tuple(types), posted_from=_start(posted), posted_to=_end(posted),
                service_from=_start(service), service_to=_end(service), patient_name=name,
                employee_id=employee, account_id=account, provider_id=provider, state=state or "",
                injury=_INJURY[injury], read=_READ[read], statuses=tuple(statuses),
                report_id=report_id)
            st.session_state[CURSORS_KEY] = [None]
            st.session_state.pop(SELECTED_KEY, None)  # a new search starts with nothing ticked
            st.session_state.pop(COUNT_KEY, None)
            report_view.close()
            report_bundle.forget()


def _start(chosen) -> object:
    return chosen[0] if isinstance(chosen, (tuple, list)) and len(chosen) >= 1 else None


def _end(chosen) -> object:
    if isinstance(chosen, (tuple, list)) and chosen:
        return chosen[-1]
    return None


def _frame(rows: list[search.ReportRow], principal: Principal) -> pd.DataFrame:
    frame = pd.DataFrame([{
        "": "New" if row.is_new else "",
        "Posted": components.local_time(row.posted_at, principal),
        "Report type": row.type_label,
        "Patient": row.patient_name,
        "Employee ID": row.employee_id,
        "Service date": row.service_date.isoformat(),
        "Provider": row.provider_name,
        "State": row.state,
        "Injury": "Injury" if row.injury else "Non-injury",
        "Status": _STATUS_LABELS[row.status],
        "Report #": row.id,
    } for row in rows])
    return frame if principal.is_staff else frame.drop(columns="Status")


@st.fragment
def _results() -> None:
    principal = runtime.current_principal()
    if principal is None:
        st.rerun(scope="app")
        return
    flagged = st.session_state.pop(report_view.FLAGGED_KEY, None)
    if flagged:
        st.success(flagged)
        st.session_state.pop(COUNT_KEY, None)  # one fewer result now
    report_filter = st.session_state.get(FILTER_KEY, ReportFilter())
    cursors = st.session_state.setdefault(CURSORS_KEY, [None])
    try:
        page = search.search(runtime.database(), principal, report_filter,
                                    after=cursors[-1], with_count=False)
    except DomainError as error:
        st.error(str(error))
        return
    first = (len(cursors) - 1) * search.PAGE_SIZE
    if not page.rows:
        _TICKS.resolve([])
        st.info("No reports match. Widen the dates or clear a filter.")
    else:
        # The grid goes out first and the count follows into this line: for a common name the
        # count takes longer than the page. It is taken once per search and list of rows (an
        # action that changes the rows, a report opened under "New" or removed, changes it too).
        count_line = st.empty()
        selected = _grid(page.rows, principal)
        counted = st.session_state.get(COUNT_KEY)
        shown = tuple(row.id for row in page.rows)
        if counted is None or counted[0] != (report_filter, shown):
            label = search.count_label(*search.count(runtime.database(), principal,
                                                     report_filter))
            counted = st.session_state[COUNT_KEY] = ((report_filter, shown), label)
        noun = "result" if counted[1] == "1" else "results"
        count_line.write(f"**{counted[1]}** {noun} · showing {first + 1:,}–{first + len(page.rows):,}")
        _pager(page, cursors)
        _actions(principal, selected)
    opened = st.session_state.get(report_view.OPEN_KEY)
    if opened is not None:
        report_view.show(principal, opened)


def _grid(rows: list[search.ReportRow], principal: Principal) -> list[int]:
    """The results grid; returns the ticked report ids, in the order of the rows."""
    return _TICKS.grid(_frame(rows, principal), [row.id for row in rows])


def _pager(page: search.ReportPage, cursors: list) -> None:
    # Callbacks change the page before the rerun they cause, whichever kind of rerun it is.
    previous, _, following = st.columns([1, 4, 1])
    previous.button("← Previous", disabled=len(cursors) == 1, key="reports_previous",
                    on_click=cursors.pop)
    following.button("Next →", disabled=page.next_cursor is None, key="reports_next",
                     on_click=cursors.append, args=(page.next_cursor,))


def _actions(principal: Principal, selected: list[int]) -> None:
    if not selected:
        st.caption("Select one report to open it, or several to download them together.")
        return
    one, many = st.columns([1, 3])
    if one.button("Open report", disabled=len(selected) != 1, key="reports_open_selected"):
        report_view.close()
        st.session_state[report_view.OPEN_KEY] = selected[0]
    with many:
        report_bundle.offer(principal, selected)


def _start_fresh_for(principal: Principal) -> None:
    """Search state belongs to one user: never carry another's filter, page or count over."""
    if st.session_state.get(_USER_KEY) != principal.user_id:
        for key in (FILTER_KEY, CURSORS_KEY, COUNT_KEY, _LINKED_KEY, SELECTED_KEY):
            st.session_state.pop(key, None)
        report_view.close()
        report_bundle.forget()
        st.session_state[_USER_KEY] = principal.user_id


def _deep_link() -> None:
    """?report=<id> opens that report (refused and audited when it is not the user's)."""
    raw = st.query_params.get("report")
    if raw and st.session_state.get(_LINKED_KEY) != raw:
        st.session_state[_LINKED_KEY] = raw
        report_view.close()
        st.session_state[report_view.OPEN_KEY] = int(raw) if raw.isdigit() else -1


def render(principal: Principal) -> None:
    components.guard(principal, Action.VIEW_REPORTS)
    st.title("Reports")
    if not principal.is_staff:
        st.caption(f"Reports stay here for {period(RETENTION_PERIOD, 'days')} after posting, then "
                   "archive automatically. For an older report, contact the medical center that "
                   "saw the patient.")
    _start_fresh_for(principal)
    _deep_link()
    _filters(principal)
    _results()
