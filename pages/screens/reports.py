"""Reports: search, a page of 50 results at a time, open one, download several."""

from __future__ import annotations

from datetime import tzinfo

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.screens import (
    report_bundle,
    report_selection,
    report_view,
    reports_keys,
    reports_purpose,
    saved_search_form,
)
from services.errors import DomainError
from services.policy import Action
from services.principals import Principal
from services.privacy import incidents
from services.reports import access, list_purpose, periods, search
from services.reports.retention import RETENTION_PERIOD
from services.reports.search import ReportFilter
from services.statuses import ReportStatus
from services.wording import period

# Session state: the search, its pages so far and its count, whose they are, and the
# ?report= link already followed. Which report is open belongs to report_view.
FILTER_KEY = reports_keys.FILTER_KEY
CURSORS_KEY = reports_keys.CURSORS_KEY
COUNT_KEY = reports_keys.COUNT_KEY
# The chosen reports, by id, on every page (report_selection keeps them).
SELECTED_KEY = report_selection.SELECTED_KEY
# The report open above the grid when it was last drawn.
_PANEL_KEY = "reports_panel_drawn"
_USER_KEY = "reports_user"
_LINKED_KEY = "reports_linked"
# The visit (services.reports.list_purpose) the current search was run in.
_VISIT_KEY = "reports_search_visit"
# The two parts of the screen that rerun on their own: a search reruns both, a tick, a page turn
# or an opened report only the results.
_FILTERS_FRAGMENT = "reports_filters_part"
_RESULTS_FRAGMENT = "reports_results_part"
# Whether the filters are unfolded, and why the last search was refused (shown inside them).
_FILTERS_OPEN_KEY = "reports_filters_open"
_REFUSED_KEY = "reports_search_refused"
# The purpose an incident's link starts with (one of access.STAFF_PURPOSES).
INCIDENT_REVIEW = "HIPAA incident review"
_INJURY = {"All": None, "Injury": True, "Non-injury": False}
_READ = {"All": "all", "New (not opened by me)": "new", "Opened": "opened"}
_STATUS_LABELS = {ReportStatus.AVAILABLE: "Available", ReportStatus.ARCHIVED: "Archived",
                  ReportStatus.WITHDRAWN: "Withdrawn"}
_REPLACED = "Replaced by a correction"


@st.fragment(key=_FILTERS_FRAGMENT)
def _filters() -> None:
    principal = _resumed()
    choices = search.filter_choices(runtime.database(), principal)
    saved_search_form.offer(principal, choices)
    # Open until the first search, then folded so the results come first (on a phone the form
    # alone fills the screen); it opens again when a search is refused, to show why.
    with st.expander("Filters", expanded=True, key=_FILTERS_OPEN_KEY, on_change="rerun"):
        refused = st.session_state.pop(_REFUSED_KEY, None)
        if refused:
            st.error(refused)
        with st.form("report_filters", border=False):
            _fields(choices)
            st.form_submit_button("Search", type="primary", on_click=_search, args=(principal.zone,))


def _fields(choices: search.FilterChoices) -> None:
    # One row of columns per line, so Tab moves in reading order along each line rather than
    # down one column and then the next.
    left, middle, right, last = st.columns(4)
    left.multiselect("Report type", list(choices.report_types),
                     format_func=choices.report_types.get, key="f_types")
    middle.selectbox("Posted", periods.PRESETS, key="f_posted_preset")
    right.date_input("Posted between", value=(), key="f_posted",
                     help="Your own dates: used with Custom range (or Any time).")
    last.date_input("Service date between", value=(), key="f_service")
    left, middle, right = st.columns(3)
    left.text_input("Patient name", key="f_name", placeholder="Last or first name")
    middle.text_input("Employee ID", key="f_employee")
    right.text_input("Report #", key="f_report_number", placeholder="e.g. 4992")
    left, middle, right = st.columns(3)
    if len(choices.accounts) > 1:
        left.selectbox("Account", list(choices.accounts), index=None,
                       format_func=choices.accounts.get, key="f_account",
                       placeholder="All my accounts")
    if choices.providers:
        middle.selectbox("Provider", list(choices.providers), index=None,
                         format_func=choices.providers.get, key="f_provider",
                         placeholder="All providers")
    if choices.states:
        right.selectbox("State", choices.states, index=None, key="f_state",
                        placeholder="All states")
    left, middle, right = st.columns(3)
    left.radio("Show", list(_READ), horizontal=True, key="f_read")
    if choices.statuses:
        middle.multiselect("Status", list(choices.statuses), format_func=_STATUS_LABELS.get,
                           key="f_status", placeholder="Any status")
    right.radio("Injury", list(_INJURY), horizontal=True, key="f_injury")


def _search(zone: tzinfo) -> None:
    """Search pressed: the form's values become the search, and the filters fold away (the
    presets count the person's own calendar days, in `zone`)."""
    typed = st.session_state
    try:
        report_id = search.report_number(typed.get("f_report_number", ""))
        posted_from, posted_to = periods.posted_between(
            typed.get("f_posted_preset", periods.ANY_TIME), custom=tuple(typed.get("f_posted") or ()),
            zone=zone)
    except DomainError as error:
        st.session_state[_REFUSED_KEY] = str(error)
        st.session_state[_FILTERS_OPEN_KEY] = True
        return  # the filters rerun by themselves to show why; the results stay as they were
    service = tuple(typed.get("f_service") or ())
    st.session_state[FILTER_KEY] = ReportFilter(
        report_types=tuple(typed.get("f_types") or ()), posted_from=posted_from,
        posted_to=posted_to, service_from=service[0] if service else None,
        service_to=service[-1] if service else None, patient_name=typed.get("f_name", ""),
        employee_id=typed.get("f_employee", ""), account_id=typed.get("f_account"),
        provider_id=typed.get("f_provider"), state=typed.get("f_state") or "",
        injury=_INJURY[typed.get("f_injury", "All")], read=_READ[typed.get("f_read", "All")],
        statuses=tuple(typed.get("f_status") or ()), report_id=report_id)
    st.session_state[CURSORS_KEY] = [None]
    report_selection.forget()  # a new search starts with nothing chosen
    st.session_state.pop(COUNT_KEY, None)
    st.session_state[_FILTERS_OPEN_KEY] = False
    report_view.close()
    report_bundle.forget()
    # Only the filters (folding away) and the results change: the rest of the screen stays.
    st.rerun([_FILTERS_FRAGMENT, _RESULTS_FRAGMENT])


# Who and when keep fixed widths so that on a phone (seen at 390 x 844) the report type starts in
# view beside them; the type keeps its natural width so wider screens show it whole. A longer
# name is cut short in the grid and shows whole in the open report.
_COLUMNS = {"Patient": st.column_config.TextColumn(width=125),
            "Posted": st.column_config.TextColumn(width=92)}


def _frame(rows: list[search.ReportRow], principal: Principal) -> pd.DataFrame:
    # Who, what and when first: a phone shows the first three columns without scrolling sideways.
    frame = pd.DataFrame([{
        "Patient": row.patient_name,
        "Posted": components.local_day(row.posted_at, principal),  # the open report has the time
        "Report type": row.type_label,
        "New": "New" if row.is_new else "",
        "Corrected": "Corrected" if row.corrected else "",
        "Service date": row.service_date.isoformat(),
        "Employee ID": row.employee_id,
        "Provider": row.provider_name,
        "State": row.state,
        "Injury": "Injury" if row.injury else "Non-injury",
        "Status": _REPLACED if row.replaced else _STATUS_LABELS[row.status],
        "Report #": row.id,
    } for row in rows])
    # The clinic sees its withdrawn and replaced reports too; recipients only available ones.
    shows_status = principal.is_staff or bool(principal.provider_links)
    return frame if shows_status else frame.drop(columns="Status")


def _resumed() -> Principal:
    """The signed-in person, checked again in a fragment's own run as a full run does; when the
    session has ended, the whole screen reruns to show the sign-in form instead (no return)."""
    principal = runtime.current_principal()
    if principal is None:
        st.rerun(scope="app")
    return principal


@st.fragment(key=_RESULTS_FRAGMENT)
def _results() -> None:
    principal = _resumed()
    flagged = st.session_state.pop(report_view.FLAGGED_KEY, None)
    if flagged:
        st.success(flagged)
        st.session_state.pop(COUNT_KEY, None)  # one fewer result now
    opened = st.session_state.get(report_view.OPEN_KEY)
    if st.session_state.get(_PANEL_KEY) != opened:  # a report opened or closed above the grid
        st.session_state[_PANEL_KEY] = opened
        report_selection.renew()
    if opened is not None:
        # Above the results, so the report is what a person sees first, on a phone too.
        report_view.show(principal, opened)
    report_filter = st.session_state.get(FILTER_KEY, ReportFilter())
    cursors = st.session_state.setdefault(CURSORS_KEY, [None])
    try:
        page = search.search(runtime.database(), principal, report_filter, after=cursors[-1],
                             with_count=False, purpose=reports_purpose.current())
    except DomainError as error:
        st.error(str(error))
        return
    first = (len(cursors) - 1) * search.PAGE_SIZE
    if not page.rows:
        report_selection.grid(pd.DataFrame(), [], _COLUMNS)
        st.info("No reports match. Widen the dates or clear a filter.")
    else:
        # The rows, the pager and the buttons go out first and the count follows into this line:
        # for a common name the count takes longer than the page. It is taken once per search,
        # not per page: only a "New" list changes by itself (a report opened or downloaded
        # leaves it), so there it is taken again whenever the rows change; a report removed in
        # error clears it above.
        count_line = st.empty()
        selected = _grid(page.rows, principal)
        _pager(page, cursors)
        selection_line = st.container()
        _actions(principal, selected, redraw=report_filter.read != "new")
        showing = f"showing {first + 1:,}–{first + len(page.rows):,}"
        counted = st.session_state.get(COUNT_KEY)
        shown = tuple(row.id for row in page.rows) if report_filter.read == "new" else ()
        if counted is None or counted[0] != (report_filter, shown):
            count_line.write(f"Counting the results · {showing}")
            number, capped = search.count(runtime.database(), principal, report_filter,
                                          purpose=reports_purpose.current())
            counted = st.session_state[COUNT_KEY] = ((report_filter, shown),
                                                     search.count_label(number, capped),
                                                     number, capped)
        noun = "result" if counted[1] == "1" else "results"
        count_line.write(f"**{counted[1]}** {noun} · {showing}")
        with selection_line:
            report_selection.bar(principal, report_filter, counted[2], counted[3])


def _grid(rows: list[search.ReportRow], principal: Principal) -> list[int]:
    """The results grid; returns every chosen report id, on this page or another."""
    return report_selection.grid(_frame(rows, principal), [row.id for row in rows], _COLUMNS)


def _pager(page: search.ReportPage, cursors: list) -> None:
    # Callbacks change the page before the rerun they cause, whichever kind of rerun it is.
    previous, _, following = st.columns([1, 4, 1])
    previous.button("← Previous", disabled=len(cursors) == 1, key="reports_previous",
                    on_click=_turn_page, args=(cursors.pop,))
    following.button("Next →", disabled=page.next_cursor is None, key="reports_next",
                     on_click=_turn_page, args=(lambda: cursors.append(page.next_cursor),))


def _turn_page(turn) -> None:
    """The chosen reports stay chosen on every page; the grid starts afresh on the next one."""
    report_selection.page_turned()
    turn()


def _actions(principal: Principal, selected: list[int], *, redraw: bool) -> None:
    if not selected:
        st.caption("Select one report to open it, or several to download them together.")
        return
    one, many = st.columns([1, 3])
    # A callback: the report is set before the run that draws it above the grid.
    several = len(selected) != 1
    one.button("Open report", disabled=several, key="reports_open_selected",
               on_click=report_view.open_report, args=(selected[0],))
    if several:
        # Said on the screen, not in a tooltip: a phone has no hover.
        one.caption("Open one report at a time: tick just one.")
    with many:
        report_bundle.offer(principal, selected, redraw=redraw)


def _start_fresh_for(principal: Principal) -> None:
    """Search state belongs to one user: never carry another's filter, page or count over."""
    if st.session_state.get(_USER_KEY) != principal.user_id:
        for key in (FILTER_KEY, CURSORS_KEY, COUNT_KEY, _LINKED_KEY, _FILTERS_OPEN_KEY):
            st.session_state.pop(key, None)
        report_selection.forget()
        report_view.close()
        report_bundle.forget()
        reports_purpose.forget()
        st.session_state[_USER_KEY] = principal.user_id


def _search_belongs_to(visit: str) -> None:
    """A search belongs to the purpose it was run for: a new purpose (a new visit, or another
    purpose chosen) starts from the unfiltered list rather than rerunning the last search."""
    if st.session_state.get(_VISIT_KEY) != visit:
        for key in (FILTER_KEY, CURSORS_KEY, COUNT_KEY):
            st.session_state.pop(key, None)
        report_selection.forget()
        report_bundle.forget()
        st.session_state[_VISIT_KEY] = visit


def _deep_link(principal: Principal) -> None:
    """?report=<id> opens that report (refused and audited when it is not the user's).

    With &incident=<id> (the HIPAA queue's link) the purpose "HIPAA incident review" and the
    reference INC-<id> start chosen, for a person who may review that incident and only when the
    incident is about that report.
    """
    raw = st.query_params.get("report")
    if not raw:
        st.session_state.pop(_LINKED_KEY, None)  # left the link: following it again reopens
        return
    linked = (raw, st.query_params.get("incident", ""))
    if st.session_state.get(_LINKED_KEY) != linked:
        st.session_state[_LINKED_KEY] = linked
        report_id = int(raw) if raw.isdigit() else -1
        purpose = _incident_purpose(principal, report_id, linked[1])
        reports_purpose.start_with(principal, purpose)
        report_view.open_report(report_id, purpose)


def _incident_purpose(principal: Principal, report_id: int, raw: str) -> access.Purpose | None:
    if not raw.isdigit() or not principal.is_staff or not principal.can(Action.TRIAGE_INCIDENTS):
        return None
    try:
        found = incidents.detail(runtime.database(), principal, incident_id=int(raw))
    except DomainError:
        return None
    if found.report_id != report_id:
        return None
    return access.purpose(INCIDENT_REVIEW, f"INC-{found.id}")


def render(principal: Principal) -> None:
    components.guard(principal, Action.VIEW_REPORTS)
    st.title("Reports")
    if not principal.is_staff:
        st.caption(f"Reports stay here for {period(RETENTION_PERIOD, 'days')} after posting, then "
                   "archive automatically. For an older report, contact the medical center that "
                   "saw the patient.")
    _start_fresh_for(principal)
    _deep_link(principal)
    # Support and account representatives say why before any patient is listed (or opened).
    if list_purpose.asked(principal):
        chosen = reports_purpose.ask(principal)
        if chosen is None:
            return
        _search_belongs_to(chosen.visit)
    _filters()
    _results()
