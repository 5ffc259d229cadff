"""What the Dashboard shows: report volume, turnaround, adoption and incidents, from rollups.

Everything about reports is read from report_volume_daily and, per account, from its smaller
sum account_volume_daily (both kept current by services.insight.report_volume), and everything about
client activity from account_activity_daily; nothing here reads a report row, a patient or
a PDF. Dates are UTC calendar days, and a report belongs to the day it was posted. Weeks start
on Monday.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db import dialect
from db.engine import Database
from db.models import (
    EVERY_REPORT,
    Account,
    AccountActivityDaily,
    AccountVolumeDaily,
    Incident,
    Provider,
    ProviderGroup,
    ReportType,
    ReportVolumeDaily,
)
from services import audit, clock
from services.csv_export import to_csv
from services.errors import InvalidInput
from services.hipaa import NOTIFICATION_PERIOD
from services.insight.report_volume import OPENED_WITHIN, TURNAROUND_TARGET
from services.policy import Action
from services.principals import Principal
from services.statuses import IncidentStatus
from services.transaction import transaction
from services.wording import period

GRAINS = {"day": "Day", "week": "Week starting", "month": "Month"}
SPLITS = {"report_type": "Report type", "account": "Account", "provider": "Provider",
          "state": "State", "injury": "Injury or non-injury"}
TOP_SEGMENTS = 10  # accounts or providers drawn separately; the rest are "Other"
TOP_ACCOUNTS = 25
LONGEST_RANGE = timedelta(days=3 * 366)
# The last bounded bucket ends at the breach-notification deadline, so "over" means overdue.
_DUE_DAYS = NOTIFICATION_PERIOD.days
INCIDENT_AGES = ((7, "0-7 days"), (30, "8-30 days"), (_DUE_DAYS, f"31-{_DUE_DAYS} days"),
                 (None, f"over {_DUE_DAYS} days"))
OTHER = "Other"


@dataclass(frozen=True)
class DashboardFilter:
    start: date
    end: date  # inclusive
    account_id: int | None = None
    group_id: int | None = None
    report_types: tuple[str, ...] = ()

    def checked(self) -> DashboardFilter:
        if self.end < self.start:
            raise InvalidInput("The end date is before the start date.")
        if self.end - self.start > LONGEST_RANGE:
            raise InvalidInput("Choose at most three years at a time.")
        return self


@dataclass(frozen=True)
class Choices:
    accounts: dict[int, str]
    groups: dict[int, str]
    report_types: dict[str, str] = field(default_factory=dict)  # code -> name, the whole list


def type_names(session: Session) -> dict[str, str]:
    """Code -> name of every report type, in the list's order, read from the list each time.

    services.reports.report_types is the list's reader, but services.reports imports this
    package (it keeps the rollup current), so the Dashboard reads the same table itself.
    """
    rows = session.execute(select(ReportType.code, ReportType.name, ReportType.retired_at)
                           .order_by(ReportType.position, ReportType.name))
    return {code: name + (" (retired)" if retired_at else "") for code, name, retired_at in rows}


@dataclass(frozen=True)
class Dashboard:
    totals: dict[str, float | int | None]
    volume: pd.DataFrame  # period, segment, reports
    turnaround: pd.DataFrame  # period, non-injury reports, average hours, share within target
    adoption: pd.DataFrame  # period, reports, opened, opened in time, share
    lifecycle: pd.DataFrame  # period, posted, archived, re-delivered, corrections, withdrawn
    activity: pd.DataFrame  # period, sign-ins, opens, downloads, active users
    accounts: pd.DataFrame  # account, reports, opened in time, share, downloads, active users
    incidents: pd.DataFrame | None  # status, age, incidents (None: not for this role)


def choices(db: Database, principal: Principal) -> Choices:
    """The accounts and provider groups the filters offer."""
    with transaction(db, write=False) as session:
        principal.require(Action.VIEW_DASHBOARDS)
        accounts = dict(session.execute(select(Account.id, Account.name).order_by(Account.name)).all())
        groups = dict(session.execute(select(ProviderGroup.id, ProviderGroup.name)
                                      .order_by(ProviderGroup.name)).all())
        types = type_names(session)
    return Choices(accounts=accounts, groups=groups, report_types=types)


def _period(session: Session, day, grain: str):
    return day if grain == "day" else dialect.period_start(session, day, grain)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class _Query:
    """The filters as conditions on the rollup, and the period of a row."""

    def __init__(self, session: Session, selected: DashboardFilter, grain: str) -> None:
        self.session, self.filter = session, selected
        self.period = _period(session, ReportVolumeDaily.day, grain).label("period")
        self.account_period = _period(session, AccountVolumeDaily.day, grain).label("period")
        self.activity_period = _period(session, AccountActivityDaily.day, grain).label("period")
        self.grain = grain

    def volume_rows(self) -> list:
        rollup, chosen = ReportVolumeDaily, self.filter
        account = EVERY_REPORT if chosen.account_id is None else chosen.account_id
        return [rollup.account_id == account, *self._common(rollup)]

    def account_rows(self) -> list:
        """Conditions on account_volume_daily: every account's rows, or the chosen one's."""
        rollup, chosen = AccountVolumeDaily, self.filter
        conditions = self._common(rollup)
        if chosen.account_id is not None:
            conditions.append(rollup.account_id == chosen.account_id)
        return conditions

    def _common(self, rollup) -> list:
        chosen = self.filter
        conditions = [rollup.day >= chosen.start, rollup.day <= chosen.end]
        if chosen.group_id is not None:
            conditions.append(rollup.group_id == chosen.group_id)
        if chosen.report_types:
            conditions.append(rollup.report_type.in_(chosen.report_types))
        return conditions

    def activity_rows(self) -> list:
        activity, chosen = AccountActivityDaily, self.filter
        conditions = [activity.day >= chosen.start, activity.day <= chosen.end]
        if chosen.account_id is not None:
            conditions.append(activity.account_id == chosen.account_id)
        return conditions


@dataclass(frozen=True)
class Summary:
    """The figures above the charts and the per-period tables that come from the same query."""

    totals: dict[str, float | int | None]
    turnaround: pd.DataFrame
    adoption: pd.DataFrame
    lifecycle: pd.DataFrame


@contextmanager
def _reading(db: Database, principal: Principal, selected: DashboardFilter, grain: str,
             split: str | None = None) -> Iterator[_Query]:
    """The permission first (a refusal is audited whatever was asked), then the choices."""
    with transaction(db, write=False) as session:
        principal.require(Action.VIEW_DASHBOARDS)
        if grain not in GRAINS:
            raise InvalidInput("Choose day, week or month.")
        if split is not None and split not in SPLITS:
            raise InvalidInput("Choose how to split the volume.")
        chosen = selected.checked()
        unknown = set(chosen.report_types) - set(type_names(session))
        if unknown:
            raise InvalidInput(f"Unknown report type: {sorted(unknown)[0]}.")
        yield _Query(session, chosen, grain)


def summary(db: Database, principal: Principal, selected: DashboardFilter, *,
            grain: str = "week") -> Summary:
    """Totals, turnaround, openings and archive per period."""
    with _reading(db, principal, selected, grain) as query:
        return _summary(query, principal)


def volume(db: Database, principal: Principal, selected: DashboardFilter, *,
           grain: str = "week", split: str = "report_type") -> pd.DataFrame:
    """Results posted per period and segment (long form: period, segment, reports)."""
    with _reading(db, principal, selected, grain, split) as query:
        return _volume(query, split)


def client_activity(db: Database, principal: Principal, selected: DashboardFilter, *,
                    grain: str = "week") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Client activity per period, and the accounts that received the most reports."""
    with _reading(db, principal, selected, grain) as query:
        return _activity(query), _accounts(query)


def incident_counts(db: Database, principal: Principal) -> pd.DataFrame:
    """HIPAA incidents by status and age (counts only)."""
    with transaction(db, write=False) as session:
        principal.require(Action.VIEW_INCIDENT_COUNTS)
        return _incidents(session)


def overview(db: Database, principal: Principal, selected: DashboardFilter, *,
             grain: str = "week", split: str = "report_type") -> Dashboard:
    """Every chart's data for these filters at once (no patient identifiers anywhere)."""
    with _reading(db, principal, selected, grain, split) as query:
        head = _summary(query, principal)
        shown_volume = _volume(query, split)
        activity, accounts = _activity(query), _accounts(query)
        incidents = (_incidents(query.session) if principal.can(Action.VIEW_INCIDENT_COUNTS)
                     else None)
    return Dashboard(totals=head.totals, volume=shown_volume, turnaround=head.turnaround,
                     adoption=head.adoption, lifecycle=head.lifecycle, activity=activity,
                     accounts=accounts, incidents=incidents)


def _summary(query: _Query, principal: Principal) -> Summary:
    by_period = _by_period(query)
    per_period = by_period.drop(columns="injury").groupby("period", as_index=True).sum()
    return Summary(totals=_totals(by_period, query, principal),
                   turnaround=_turnaround_frame(by_period),
                   adoption=_adoption_frame(per_period), lifecycle=_lifecycle_frame(per_period))


def _segment_column(split: str):
    rollup = ReportVolumeDaily
    return {"report_type": rollup.report_type, "provider": rollup.provider_id,
            "state": rollup.state, "injury": rollup.injury}[split]


def _names(session: Session, split: str, keys: list) -> dict:
    if split == "report_type":
        listed = type_names(session)
        return {key: listed.get(key, key) for key in keys}
    if split == "injury":
        return {key: "Injury" if key else "Non-injury" for key in keys}
    if split == "state":
        return {key: key for key in keys}
    model = Account if split == "account" else Provider
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(keys))).all())


def _volume(query: _Query, split: str) -> pd.DataFrame:
    session = query.session
    if split == "account":
        rollup, period, where = AccountVolumeDaily, query.account_period, query.account_rows()
        segment = rollup.account_id.label("segment")
    else:
        rollup, period, where = ReportVolumeDaily, query.period, query.volume_rows()
        segment = _segment_column(split).label("segment")
    rows = session.execute(select(period, segment, func.sum(rollup.reports).label("reports"))
                           .where(*where).group_by(period, segment).order_by(period)).all()
    keep = None
    if split in ("account", "provider"):
        # Only the largest get their own colour; a stacked bar of 500 accounts reads as noise.
        # One pass over the rollup: the totals that pick them come from the same rows.
        totals: Counter = Counter()
        for row in rows:
            totals[row.segment] += row.reports
        keep = {key for key, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
                [:TOP_SEGMENTS]}
    names = _names(session, split, sorted({row.segment for row in rows
                                           if keep is None or row.segment in keep}, key=str))
    sums: Counter = Counter()
    for row in rows:
        label = (names.get(row.segment, str(row.segment)) if keep is None or row.segment in keep
                 else OTHER)
        sums[(_as_date(row.period), label)] += int(row.reports)
    return pd.DataFrame([(period, label, reports) for (period, label), reports in sums.items()],
                        columns=["period", "segment", "reports"])


def _by_period(query: _Query) -> pd.DataFrame:
    rollup = ReportVolumeDaily
    sums = [func.sum(getattr(rollup, name)).label(name) for name in
            ("reports", "turnaround_seconds", "within_72h", "routed", "opened", "opened_3d",
             "archived", "redelivered", "corrections", "withdrawn")]
    rows = query.session.execute(
        select(query.period, rollup.injury, *sums)
        .where(*query.volume_rows())
        .group_by(query.period, rollup.injury).order_by(query.period)).mappings().all()
    frame = pd.DataFrame([{**row, "period": _as_date(row["period"]), "injury": bool(row["injury"])}
                          for row in rows],
                         columns=["period", "injury", "reports", "turnaround_seconds", "within_72h",
                                  "routed", "opened", "opened_3d", "archived", "redelivered",
                                  "corrections", "withdrawn"])
    numeric = frame.columns.drop(["period", "injury"])
    frame[numeric] = frame[numeric].fillna(0).astype("int64")
    frame["injury"] = frame["injury"].astype(bool)
    return frame


# The promises in words, and the columns named after them.
TARGET_WORDS = period(TURNAROUND_TARGET, "hours")
OPENED_WORDS = period(OPENED_WITHIN, "days")
WITHIN_TARGET = f"posted within {TARGET_WORDS}"
SHARE_WITHIN_TARGET = f"share within {TARGET_WORDS} (%)"
OPENED_IN_TIME = f"opened within {OPENED_WORDS}"
SHARE_OPENED_IN_TIME = f"share opened within {OPENED_WORDS} (%)"


def _share(part, whole):
    return (100 * part / whole).round(1).where(whole > 0)


def _turnaround_frame(by_period: pd.DataFrame) -> pd.DataFrame:
    rows = by_period.loc[~by_period["injury"]].set_index("period")
    frame = pd.DataFrame({
        "non-injury reports": rows["reports"],
        "average hours to posting": (rows["turnaround_seconds"] / 3600 / rows["reports"]).round(1),
        WITHIN_TARGET: rows["within_72h"],
        SHARE_WITHIN_TARGET: _share(rows["within_72h"], rows["reports"]),
    })
    return frame.reset_index()


def _adoption_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "reports sent to an account": rows["routed"], "opened": rows["opened"],
        OPENED_IN_TIME: rows["opened_3d"],
        SHARE_OPENED_IN_TIME: _share(rows["opened_3d"], rows["routed"]),
    }).reset_index()


def _lifecycle_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"posted": rows["reports"], "archived now": rows["archived"],
                         "re-delivered": rows["redelivered"], "corrections": rows["corrections"],
                         "withdrawn now": rows["withdrawn"]}).reset_index()


def _activity(query: _Query) -> pd.DataFrame:
    activity = AccountActivityDaily
    rows = query.session.execute(
        select(query.activity_period, func.sum(activity.sign_ins), func.sum(activity.opens),
               func.sum(activity.downloads), func.count(activity.user_id.distinct()))
        .where(*query.activity_rows()).group_by(query.activity_period)
        .order_by(query.activity_period)).all()
    return pd.DataFrame([(_as_date(period), int(s), int(o), int(d), int(u))
                         for period, s, o, d, u in rows],
                        columns=["period", "sign-ins", "opens", "downloads", "active users"])


def _accounts(query: _Query) -> pd.DataFrame:
    session, rollup, activity = query.session, AccountVolumeDaily, AccountActivityDaily
    routed = session.execute(
        select(rollup.account_id, func.sum(rollup.reports), func.sum(rollup.opened_3d))
        .where(*query.account_rows()).group_by(rollup.account_id)
        .order_by(func.sum(rollup.reports).desc(), rollup.account_id).limit(TOP_ACCOUNTS)).all()
    ids = [row[0] for row in routed]
    used = {account_id: (int(d), int(u)) for account_id, d, u in session.execute(
        select(activity.account_id, func.sum(activity.downloads),
               func.count(activity.user_id.distinct()))
        .where(*query.activity_rows(), activity.account_id.in_(ids))
        .group_by(activity.account_id)).all()} if ids else {}
    names = _names(session, "account", ids) if ids else {}
    frame = pd.DataFrame([(names.get(account_id, str(account_id)), int(reports), int(opened),
                           *used.get(account_id, (0, 0)))
                          for account_id, reports, opened in routed],
                         columns=["account", "reports", OPENED_IN_TIME, "downloads",
                                  "active users"])
    frame.insert(3, SHARE_OPENED_IN_TIME, _share(frame[OPENED_IN_TIME], frame["reports"]))
    return frame


def _incidents(session: Session) -> pd.DataFrame:
    """Open, in-review and closed incidents by how long ago they were discovered."""
    now = clock.now()
    ages = [(Incident.discovered_at > now - timedelta(days=days), label)
            for days, label in INCIDENT_AGES if days is not None]
    age = case(*ages, else_=INCIDENT_AGES[-1][1]).label("age")
    rows = session.execute(select(Incident.status, age, func.count())
                           .group_by(Incident.status, age)).all()
    frame = pd.DataFrame(rows, columns=["status", "age", "incidents"])
    frame["status"] = frame["status"].map({IncidentStatus.OPEN: "Open", IncidentStatus.IN_REVIEW: "In review",
                                           IncidentStatus.CLOSED: "Closed"})
    return frame


def _totals(by_period: pd.DataFrame, query: _Query, principal: Principal) -> dict:
    non_injury = by_period.loc[~by_period["injury"]]
    reports, opened_3d = int(by_period["reports"].sum()), int(by_period["opened_3d"].sum())
    routed = int(by_period["routed"].sum())
    ni_reports = int(non_injury["reports"].sum())
    activity = AccountActivityDaily
    downloads, active = query.session.execute(
        select(func.sum(activity.downloads), func.count(activity.user_id.distinct()))
        .where(*query.activity_rows())).one()
    totals = {
        "reports": reports,
        "non_injury_within_72h": round(100 * int(non_injury["within_72h"].sum()) / ni_reports, 1)
        if ni_reports else None,
        "opened_within_3_days": round(100 * opened_3d / routed, 1) if routed else None,
        "downloads": int(downloads or 0),
        "active_users": int(active or 0),
        "archived": int(by_period["archived"].sum()),
        "redelivered": int(by_period["redelivered"].sum()),
        # Posted as a correction; withdrawn (a corrected one's predecessor included), each
        # counted on its own posting day.
        "corrections": int(by_period["corrections"].sum()),
        "withdrawn": int(by_period["withdrawn"].sum()),
        "open_incidents": None,
    }
    if principal.can(Action.VIEW_INCIDENT_COUNTS):
        totals["open_incidents"] = query.session.scalar(
            select(func.count()).select_from(Incident).where(Incident.status != IncidentStatus.CLOSED))
    return totals


def export_csv(db: Database, principal: Principal, frame: pd.DataFrame, *, table: str) -> bytes:
    """A dashboard table as CSV, formula-safe and audited (it holds no patient identifiers)."""
    with transaction(db) as session:
        principal.require(Action.VIEW_DASHBOARDS, target_type="dashboard", target_id=table)
        audit.record(session, action="dashboard.exported", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="dashboard", target_id=table,
                     details={"rows": len(frame)})
    headers = [str(column) for column in frame.columns]
    rows = [[_cell(value) for value in row] for row in frame.itertuples(index=False)]
    return to_csv(headers, rows)


def _cell(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return value

