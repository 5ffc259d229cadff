"""The Dashboard at scale: its queries and its script run, beside the raw GROUP BY over reports.

    python -m bench.dashboard [--sqlite-reports 1000000] [--postgres-reports 10000000]
                              [--rounds 40] [--no-postgres] [--reuse]

Fills a fresh SQLite file and a scratch PostgreSQL database (resultsdesk_bench_dashboard) with
synthetic reports (bench.report_rows, which also builds the rollup), adds client activity (25
users for each large account, 3 for each small one, active on about half of the 120 days), then
measures, as the manager:

- the Dashboard's queries together (services.insight.dashboard.overview: every chart's data and the
  totals) for the default view, a split by account, and one employer + one provider group +
  three report types by day;
- the Dashboard screen's script run in AppTest (warm reruns, as a filter change costs);
- beside them, in the same run, a raw GROUP BY over the reports table for the same 13 weeks
  (week x type: count, turnaround, within 72 h), the aggregation the rollup replaces.

--reuse keeps a PostgreSQL database that already holds the asked number of reports.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, text

from bench.reports import open_screen
from bench.scratch_database import filled, postgres_filled
from bench.timing import p95, table, timings_ms
from db.engine import Database
from db.models import AccountVolumeDaily, Report, ReportVolumeDaily, User
from services import principals
from services.insight import dashboard
from services.insight.dashboard import DashboardFilter

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"queries": 200, "apptest": 300}
WEEKS = 13


def _views(info: dict, today: date) -> list[tuple[str, DashboardFilter, str, str]]:
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=WEEKS - 1)
    return [
        ("default view: 13 weeks by week, split by report type",
         DashboardFilter(start=start, end=today), "week", "report_type"),
        ("13 weeks by week, split by account (top 10 + other)",
         DashboardFilter(start=start, end=today), "week", "account"),
        ("one employer, one provider group, 3 report types, by day",
         DashboardFilter(start=start, end=today, account_id=info["employer_account_ids"][0],
                         group_id=info["provider_group_ids"][0],
                         report_types=("ccf", "injury_status", "atf")), "day", "provider"),
    ]


def _raw_group_by(db: Database, start: date, end: date) -> Callable[[], list]:
    """Volume and turnaround by week and type straight from the reports table."""
    if db.is_sqlite:
        sql = ("SELECT date(posted_at, '-6 days', 'weekday 1') AS week, report_type, count(*),"
               " sum(strftime('%s', posted_at) - strftime('%s', service_date)),"
               " sum(strftime('%s', posted_at) - strftime('%s', service_date) <= 259200)"
               " FROM reports WHERE posted_at >= :start AND posted_at < :end GROUP BY 1, 2")
    else:
        sql = ("SELECT date_trunc('week', posted_at AT TIME ZONE 'UTC') AS week, report_type,"
               " count(*), sum(extract(epoch FROM posted_at) - extract(epoch FROM service_date)),"
               " sum(CASE WHEN posted_at - service_date::timestamp AT TIME ZONE 'UTC'"
               " <= interval '72 hours' THEN 1 ELSE 0 END)"
               " FROM reports WHERE posted_at >= :start AND posted_at < :end GROUP BY 1, 2")
    bounds = {"start": datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc),
              "end": datetime.combine(end + timedelta(days=1), datetime.min.time(),
                                      tzinfo=timezone.utc)}
    if db.is_sqlite:
        bounds = {k: v.replace(tzinfo=None).isoformat(" ") for k, v in bounds.items()}

    def run() -> list:
        with db.engine.connect() as connection:
            return connection.execute(text(sql), bounds).all()

    return run


def _apptest(db: Database, manager_id: int, rounds: int) -> list[float]:
    from pages.common import runtime

    at = open_screen(db, manager_id, "dashboard", "Dashboard")
    timings = timings_ms(at.run, rounds)
    runtime._database.clear()
    return timings


def measure(db: Database, info: dict, *, rounds: int, label: str) -> list[dict]:
    manager_id = info["users"]["manager"]["id"]
    with db.transaction(write=False) as session:
        manager = principals.load(session, session.get(User, manager_id))
        rollup_rows = session.scalar(select(func.count()).select_from(ReportVolumeDaily))
        account_rows = session.scalar(select(func.count()).select_from(AccountVolumeDaily))
        reports = session.scalar(select(func.count()).select_from(Report))
    today = datetime.fromisoformat(info["now"]).date()
    views = _views(info, today)
    raw = _raw_group_by(db, views[0][1].start, today)
    raw_timings = timings_ms(raw, max(3, rounds // 8))
    raw_median = statistics.median(raw_timings)
    rows = [{"backend": label, "case": f"raw GROUP BY over {reports:,} reports (13 weeks, "
             "week x type)", "median": raw_median, "p95": p95(raw_timings), "target": "",
             "naive": None, "ratio": None}]
    for name, chosen, grain, split in views:
        timings = timings_ms(lambda: dashboard.overview(db, manager, chosen, grain=grain, split=split),
                      rounds)
        rows.append({"backend": label, "case": f"Dashboard queries together: {name}",
                     "median": statistics.median(timings), "p95": p95(timings),
                     "target": f"p95 ≤ {TARGETS['queries']} ms", "naive": raw_median,
                     "ratio": raw_median / statistics.median(timings)})
    timings = _apptest(db, manager_id, rounds)
    rows.append({"backend": label, "case": "Dashboard screen script run (AppTest, manager, warm)",
                 "median": statistics.median(timings), "p95": p95(timings),
                 "target": f"p95 ≤ {TARGETS['apptest']} ms", "naive": raw_median,
                 "ratio": raw_median / statistics.median(timings)})
    rows.append({"backend": label, "case": f"(rollup: {rollup_rows:,} rows, per account "
                 f"{account_rows:,}, for {reports:,} reports; both rebuilt in {info['seconds'].get('rollup', 0):.1f} s)",
                 "median": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-reports", type=int, default=1_000_000)
    parser.add_argument("--postgres-reports", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    rows: list[dict] = []
    folder = Path(tempfile.mkdtemp())
    db, info = filled(f"sqlite:///{folder / 'dashboard.db'}", args.sqlite_reports)
    rows += measure(db, info, rounds=args.rounds, label="SQLite")
    db.dispose()
    if not args.no_postgres and (pg := postgres_filled(args.postgres_reports, args.reuse, "resultsdesk_bench_dashboard")):
        db, info = pg
        rows += measure(db, info, rounds=args.rounds, label="PostgreSQL")
        db.dispose()
    print()
    print(f"{args.rounds} rounds per case")
    print(table(rows))


if __name__ == "__main__":
    main()
