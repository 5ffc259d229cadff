"""Dashboard: report volume, turnaround, adoption, archive and incidents, from the rollups."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.screens import dashboard_charts as charts
from services import clock
from services.errors import InvalidInput
from services.hipaa import NOTIFICATION_PERIOD
from services.insight import dashboard
from services.insight.report_volume import TURNAROUND_TARGET
from services.policy import Action
from services.principals import Principal
from services.reports.retention import RETENTION_PERIOD
from services.wording import period

_DEFAULT_WEEKS = 13


def _default_range(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=_DEFAULT_WEEKS - 1), today


def _filters(options: dashboard.Choices) -> tuple[dashboard.DashboardFilter, str, str] | None:
    today = clock.now().date()
    top = st.columns([3, 2, 2])
    period = top[0].date_input("Posted between (UTC)", value=_default_range(today),
                               max_value=today, key="dash_period")
    grain = top[1].radio("Per", list(dashboard.GRAINS), horizontal=True, index=1,
                         format_func=str.capitalize, key="dash_grain")
    split = top[2].selectbox("Split volume by", list(dashboard.SPLITS),
                             format_func=dashboard.SPLITS.get, key="dash_split")
    row = st.columns([2, 2, 3])
    account = row[0].selectbox("Account", [None, *options.accounts], key="dash_account",
                               format_func=lambda a: "All accounts" if a is None else options.accounts[a])
    group = row[1].selectbox("Provider group", [None, *options.groups], key="dash_group",
                             format_func=lambda g: "All provider groups" if g is None else options.groups[g])
    types = row[2].multiselect("Report types", list(options.report_types), key="dash_types",
                               format_func=options.report_types.get, placeholder="All report types")
    if not isinstance(period, tuple) or len(period) < 2:
        st.info("Choose the last day of the period.")
        return None
    chosen = dashboard.DashboardFilter(start=period[0], end=period[1], account_id=account,
                                       group_id=group, report_types=tuple(types))
    return chosen, grain, split


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def _totals(totals: dict, *, incidents: bool) -> None:
    cells = st.columns(6 if incidents else 5)
    cells[0].metric("Reports posted", f"{totals['reports']:,}")
    hours = period(TURNAROUND_TARGET, "hours", short=True)
    cells[1].metric(f"Non-injury ≤ {hours}", _percent(totals["non_injury_within_72h"]),
                    help=f"Share of non-injury reports posted within {dashboard.TARGET_WORDS} "
                         "of the service date.")
    cells[2].metric(f"Opened ≤ {dashboard.OPENED_WORDS}", _percent(totals["opened_within_3_days"]),
                    help="Share of reports a user of a recipient account opened within "
                         f"{dashboard.OPENED_WORDS} of posting.")
    cells[3].metric("Downloads", f"{totals['downloads']:,}")
    cells[4].metric("Active users", f"{totals['active_users']:,}",
                    help="Employer, payor and TPA users who signed in, opened or downloaded.")
    if incidents:
        cells[5].metric("Open incidents", f"{totals['open_incidents']:,}")


def _lifecycle_totals(totals: dict) -> None:
    cells = st.columns(4)
    cells[0].metric("Archived now", f"{totals['archived']:,}")
    cells[1].metric("Re-delivered", f"{totals['redelivered']:,}")
    cells[2].metric("Corrections posted", f"{totals['corrections']:,}")
    cells[3].metric("Withdrawn", f"{totals['withdrawn']:,}",
                    help="Withdrawn by the clinic, or replaced by a correction.")


def _table(frame: pd.DataFrame, *, name: str, label: str, chosen: dashboard.DashboardFilter,
           grain: str | None = None) -> None:
    """The numbers behind a chart, and the same as CSV (built on click, audited)."""
    if grain is not None:
        frame = frame.rename(columns={"period": dashboard.GRAINS[grain]})
    st.dataframe(frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 320))
    db, resume = runtime.database(), runtime.principal_at_click()
    st.download_button(f"Download {label} (CSV)", key=f"dash_csv_{name}", mime="text/csv",
                       data=lambda: dashboard.export_csv(db, resume(), frame, table=name),
                       file_name=f"dashboard_{name}_{chosen.start}_{chosen.end}.csv",
                       on_click="ignore")


def _chart(chart, frame: pd.DataFrame, empty: str) -> bool:
    if frame.empty:
        st.info(empty)
        return False
    st.altair_chart(chart(), width="stretch")
    return True


def render(principal: Principal) -> None:
    components.guard(principal, Action.VIEW_DASHBOARDS)
    st.title("Dashboard")
    st.caption("Counts only: no patient appears here. A report belongs to the UTC day it was "
               "posted; a report sent to two accounts counts once, and once for each account "
               "when you choose an account.")
    db = runtime.database()
    options = dashboard.choices(db, principal)
    picked = _filters(options)
    if picked is None:
        return
    chosen, grain, split = picked
    try:
        head = dashboard.summary(db, principal, chosen, grain=grain)
    except InvalidInput as problem:
        st.error(str(problem))
        return
    may_see_incidents = principal.can(Action.VIEW_INCIDENT_COUNTS)
    _totals(head.totals, incidents=may_see_incidents)
    axis = {"period_title": dashboard.GRAINS[grain], "grain": grain}
    names = ["Volume", "Turnaround", "Adoption", "Archive"]
    if may_see_incidents:
        names.append("HIPAA incidents")
    # Only the open tab's queries and charts run: each tab change is one rerun.
    tabs = st.tabs(names, key="dash_tab", on_change="rerun")
    empty = "No reports were posted in this period for these filters."
    if tabs[0].open:
        with tabs[0]:
            _volume_tab(dashboard.volume(db, principal, chosen, grain=grain, split=split),
                        split=split, chosen=chosen, grain=grain, axis=axis, empty=empty)
    if tabs[1].open:
        with tabs[1]:
            st.header("Turnaround of non-injury reports")
            if _chart(lambda: charts.turnaround(head.turnaround, **axis), head.turnaround,
                      "No non-injury reports were posted in this period for these filters."):
                st.caption("Hours from the service date (start of day, UTC) to posting; the "
                           f"portal's promise is {dashboard.TARGET_WORDS} for non-injury reports.")
                _table(head.turnaround, grain=grain, name="turnaround", label="turnaround",
                       chosen=chosen)
    if tabs[2].open:
        with tabs[2]:
            activity, accounts = dashboard.client_activity(db, principal, chosen, grain=grain)
            _adoption_tab(head.adoption, activity, accounts, chosen=chosen, grain=grain,
                          axis=axis, empty=empty)
    if tabs[3].open:
        with tabs[3]:
            st.header("Archived, re-delivered, corrected and withdrawn")
            st.caption(f"Reports leave the portal {period(RETENTION_PERIOD, 'days')} after delivery; "
                       "staff can re-deliver "
                       "one on request. A clinic withdraws a report posted in error or posts a "
                       "correction in its place (the replaced one counts as withdrawn). Counted "
                       "by the period the reports were posted in.")
            _lifecycle_totals(head.totals)
            if _chart(lambda: charts.lifecycle(head.lifecycle, **axis), head.lifecycle, empty):
                _table(head.lifecycle, grain=grain, name="archive", label="archive",
                       chosen=chosen)
    if may_see_incidents and tabs[4].open:
        with tabs[4]:
            counts = dashboard.incident_counts(db, principal)
            st.header("HIPAA incidents by status and age")
            st.caption("Every incident, whatever the filters; age is the time since discovery "
                       f"(notification is due within {period(NOTIFICATION_PERIOD, 'days')}).")
            if _chart(lambda: charts.incidents(counts), counts,
                      "No HIPAA incidents have been logged."):
                _table(counts, name="incidents", label="incidents", chosen=chosen)


def _volume_tab(frame: pd.DataFrame, *, split: str, chosen, grain: str, axis: dict,
                empty: str) -> None:
    st.header("Reports posted")
    if not _chart(lambda: charts.volume(frame, split_title=dashboard.SPLITS[split], **axis),
                  frame, empty):
        return
    if split in ("account", "provider"):
        st.caption(f"The {dashboard.TOP_SEGMENTS} largest are shown by name; the rest are "
                   "counted as Other.")
    wide = frame.pivot_table(index="period", columns="segment", values="reports",
                             aggfunc="sum", fill_value=0).reset_index()
    _table(wide, grain=grain, name="volume", label="volume", chosen=chosen)


def _adoption_tab(adoption: pd.DataFrame, activity: pd.DataFrame, accounts: pd.DataFrame, *,
                  chosen, grain: str, axis: dict, empty: str) -> None:
    st.header(f"Opened within {dashboard.OPENED_WORDS} of posting")
    if _chart(lambda: charts.opened_share(adoption, **axis), adoption, empty):
        st.caption("Of the reports sent to at least one account, the share a user of a "
                   f"recipient account opened within {dashboard.OPENED_WORDS}; reports of the "
                   f"last {dashboard.OPENED_WORDS} may still be opened in time.")
        _table(adoption, grain=grain, name="opened", label="openings", chosen=chosen)
    st.header("Client activity")
    st.caption("What employer, payor and TPA users did on each day; the provider group and "
               "report type filters do not apply here.")
    if _chart(lambda: charts.downloads(activity, **axis), activity,
              "No client activity in this period."):
        _table(activity, grain=grain, name="activity", label="activity", chosen=chosen)
    st.header("Accounts")
    if _chart(lambda: charts.active_users(accounts), accounts,
              "No reports were routed to an account in this period."):
        st.caption(f"The {dashboard.TOP_ACCOUNTS} accounts that received the most reports.")
        _table(accounts, name="accounts", label="accounts", chosen=chosen)
