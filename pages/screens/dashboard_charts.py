"""The Dashboard's Altair charts: one function per chart, each given the service's table."""

from __future__ import annotations

import altair as alt
import pandas as pd

from services.insight import dashboard
from services.insight.report_volume import TURNAROUND_TARGET

TARGET_HOURS = int(TURNAROUND_TARGET.total_seconds() // 3600)
_HEIGHT = 340


def _period_axis(period_title: str, grain: str) -> alt.X:
    """One band per period (bars fill it), labelled as a date."""
    unit, fmt = {"day": ("yearmonthdate", "%b %d"), "week": ("yearmonthdate", "%b %d"),
                 "month": ("yearmonth", "%b %Y")}[grain]
    return alt.X(f"{unit}(period):O", title=period_title,
                 axis=alt.Axis(format=fmt, labelAngle=-40, labelOverlap=True))


def volume(frame: pd.DataFrame, *, period_title: str, grain: str, split_title: str) -> alt.Chart:
    """Stacked bars: reports posted per period, one colour per segment."""
    return alt.Chart(frame).mark_bar().encode(
        x=_period_axis(period_title, grain),
        y=alt.Y("sum(reports):Q", title="Reports posted"),
        color=alt.Color("segment:N", title=split_title, legend=alt.Legend(labelLimit=240)),
        tooltip=[alt.Tooltip("period:T", title=period_title), alt.Tooltip("segment:N", title=split_title),
                 alt.Tooltip("reports:Q", title="Reports", format=",")],
    ).properties(height=_HEIGHT)


def turnaround(frame: pd.DataFrame, *, period_title: str, grain: str) -> alt.LayerChart:
    """Average hours from service date to posting (non-injury), against the target."""
    line = alt.Chart(frame).mark_line(point=True).encode(
        x=_period_axis(period_title, grain),
        y=alt.Y("average hours to posting:Q", title="Hours from service date to posting"),
        tooltip=[alt.Tooltip("period:T", title=period_title),
                 alt.Tooltip("average hours to posting:Q", title="Average hours"),
                 alt.Tooltip(f"{dashboard.SHARE_WITHIN_TARGET}:Q",
                             title=f"Within {dashboard.TARGET_WORDS} (%)")],
    )
    target = pd.DataFrame({"hours": [TARGET_HOURS], "label": [f"{TARGET_HOURS}-hour target"]})
    rule = alt.Chart(target).mark_rule(color="#c0392b", strokeDash=[6, 4]).encode(y="hours:Q")
    label = alt.Chart(target).mark_text(align="left", dx=4, dy=-6, color="#c0392b").encode(
        y="hours:Q", text="label:N", x=alt.value(0))
    return alt.layer(line, rule, label).properties(height=_HEIGHT)


def opened_share(frame: pd.DataFrame, *, period_title: str, grain: str) -> alt.Chart:
    """Share of reports (by posting period) a recipient opened in time."""
    return alt.Chart(frame).mark_line(point=True).encode(
        x=_period_axis(period_title, grain),
        y=alt.Y(f"{dashboard.SHARE_OPENED_IN_TIME}:Q",
                title=f"Opened within {dashboard.OPENED_WORDS} (% of reports)",
                scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("period:T", title=period_title),
                 alt.Tooltip("reports sent to an account:Q", title="Reports sent", format=","),
                 alt.Tooltip(f"{dashboard.SHARE_OPENED_IN_TIME}:Q",
                             title=f"Opened within {dashboard.OPENED_WORDS} (%)")],
    ).properties(height=_HEIGHT)


def active_users(frame: pd.DataFrame) -> alt.Chart:
    """Active users per account (horizontal bars, largest first)."""
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("account:N", title="Account", sort="-x"),
        x=alt.X("active users:Q", title="Active users (signed in, opened or downloaded)"),
        tooltip=["account:N", alt.Tooltip("active users:Q", title="Active users"),
                 alt.Tooltip("downloads:Q", title="Downloads", format=",")],
    ).properties(height=max(120, 24 * len(frame)))


def downloads(frame: pd.DataFrame, *, period_title: str, grain: str) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=_period_axis(period_title, grain),
        y=alt.Y("downloads:Q", title="Reports downloaded by clients"),
        tooltip=[alt.Tooltip("period:T", title=period_title),
                 alt.Tooltip("downloads:Q", title="Downloads", format=","),
                 alt.Tooltip("active users:Q", title="Active users")],
    ).properties(height=_HEIGHT)


def lifecycle(frame: pd.DataFrame, *, period_title: str, grain: str) -> alt.Chart:
    """Archived, re-delivered, corrected and withdrawn reports, by the period they were posted in."""
    long = frame.melt(id_vars="period",
                      value_vars=["archived now", "re-delivered", "corrections", "withdrawn now"],
                      var_name="what", value_name="reports")
    return alt.Chart(long).mark_bar().encode(
        x=_period_axis(period_title, grain),
        xOffset="what:N",
        y=alt.Y("reports:Q", title="Reports (by posting period)"),
        color=alt.Color("what:N", title="", legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("period:T", title=period_title), "what:N",
                 alt.Tooltip("reports:Q", format=",")],
    ).properties(height=_HEIGHT)


def incidents(frame: pd.DataFrame) -> alt.Chart:
    """HIPAA incidents by status, stacked by age since discovery."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("status:N", title="Status", sort=["Open", "In review", "Closed"]),
        y=alt.Y("incidents:Q", title="Incidents", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("age:N", title="Since discovery",
                        sort=[label for _, label in dashboard.INCIDENT_AGES]),
        tooltip=["status:N", "age:N", "incidents:Q"],
    ).properties(height=240)
