"""The Dashboard at scale: its queries and its script run, beside the raw GROUP BY over reports.

    python -m bench.dashboard [--sqlite-reports 1000000] [--postgres-reports 10000000]
                              [--rounds 40] [--no-postgres] [--reuse]

Fills a fresh SQLite file and a scratch PostgreSQL database (resultsdesk_bench_dashboard) with
synthetic reports (bench.report_rows, which also builds the rollup), adds client activity (25
users for each large account, 3 for each small one, active on about half of the 120 days), then
measures, as the manager:

- the Dashboard's queries together (services.dashboard.overview: every chart's data and the
  totals) for the default view, a split by account, and one employer + one provider group +
  three report types by day;
- the Dashboard screen's script run in AppTest (warm reruns, as a filter change costs);
- beside them, in the same run, a raw GROUP BY over the reports table for the same 13 weeks
  (week x type: count, turnaround, within 72 h), the aggregation the rollup replaces.

--reuse keeps a PostgreSQL database that already holds the asked number of reports.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bench import report_rows
from bench.reports import PG_URL, _ms, _p95, open_screen
from db.engine import Database
from db.migrate import upgrade
from db.models import AccountActivityDaily, AccountVolumeDaily, Report, ReportVolumeDaily, User
from services import dashboard, principals
from services.dashboard import DashboardFilter

ROOT = Path(__file__).resolve().parent.parent
PG_DB = "resultsdesk_bench_dashboard"
TARGETS = {"queries": 200, "apptest": 300}
WEEKS = 13


def _activity(db: Database, info: dict, now: datetime) -> int:
    """Synthetic client activity: what account_activity_daily holds for busy accounts."""
    rng = random.Random(11)
    large = [*info["employer_account_ids"], *info["payor_account_ids"], info["tpa_account_id"]]
    rows, user_id = [], 10_000_000  # ids far from real users: the table has no foreign key
    for account_id, users in [(a, 25) for a in large] + [
            (a, 3) for a in info["small_employer_account_ids"]]:
        for _ in range(users):
            user_id += 1
            for days_ago in range(120):
                if rng.random() < 0.5:
                    rows.append({"account_id": account_id, "user_id": user_id,
                                 "day": (now - timedelta(days=days_ago)).date(),
                                 "sign_ins": rng.randint(1, 2), "opens": rng.randint(0, 20),
                                 "downloads": rng.randint(0, 10)})
    with db.transaction() as session:
        session.execute(insert(AccountActivityDaily), rows)
    return len(rows)


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
    timings = _ms(at.run, rounds)
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
    raw_timings = _ms(raw, max(3, rounds // 8))
    raw_median = statistics.median(raw_timings)
    rows = [{"backend": label, "case": f"raw GROUP BY over {reports:,} reports (13 weeks, "
             "week x type)", "median": raw_median, "p95": _p95(raw_timings), "target": "",
             "ratio": None}]
    for name, chosen, grain, split in views:
        timings = _ms(lambda: dashboard.overview(db, manager, chosen, grain=grain, split=split),
                      rounds)
        rows.append({"backend": label, "case": f"Dashboard queries together: {name}",
                     "median": statistics.median(timings), "p95": _p95(timings),
                     "target": f"p95 ≤ {TARGETS['queries']} ms",
                     "ratio": raw_median / statistics.median(timings)})
    timings = _apptest(db, manager_id, rounds)
    rows.append({"backend": label, "case": "Dashboard screen script run (AppTest, manager, warm)",
                 "median": statistics.median(timings), "p95": _p95(timings),
                 "target": f"p95 ≤ {TARGETS['apptest']} ms",
                 "ratio": raw_median / statistics.median(timings)})
    rows.append({"backend": label, "case": f"(rollup: {rollup_rows:,} rows, per account "
                 f"{account_rows:,}, for {reports:,} reports; both rebuilt in {info['seconds'].get('rollup', 0):.1f} s)",
                 "median": None})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| backend | case | median ms | p95 ms | target | raw GROUP BY / ours |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        if row["median"] is None:
            lines.append(f"| {row['backend']} | {row['case']} | | | | |")
            continue
        ratio = "" if row["ratio"] is None else f"{row['ratio']:,.0f}×"
        lines.append(f"| {row['backend']} | {row['case']} | {row['median']:.1f} | "
                     f"{row['p95']:.1f} | {row['target']} | {ratio} |")
    return "\n".join(lines)


def _postgres(reports: int, reuse: bool) -> tuple[Database, dict] | None:
    admin = Database(PG_URL)
    url = PG_URL.rsplit("/", 1)[0] + f"/{PG_DB}"
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": PG_DB})
            if reuse and exists:
                db = Database(url)
                saved = _saved_info(db, reports)
                if saved is not None:
                    return db, saved
                db.dispose()
            connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PG_DB}"))
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable here"
        print(f"PostgreSQL skipped: {error.__class__.__name__}")
        return None
    finally:
        admin.dispose()
    return _fill(url, reports)


_INFO_TABLE = "bench_fill_info"


def _saved_info(db: Database, reports: int) -> dict | None:
    import json

    try:
        with db.engine.connect() as connection:
            saved = connection.scalar(text(f"SELECT info FROM {_INFO_TABLE}"))
    except Exception:  # noqa: BLE001 - no saved fill
        return None
    info = json.loads(saved) if saved else None
    return info if info and info["reports"] == reports else None


def _fill(url: str, reports: int) -> tuple[Database, dict]:
    import json

    db = Database(url)
    upgrade(db)
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    info = report_rows.fill(db, reports=reports, blob_sha256="0" * 64, now=now)
    activity = _activity(db, info, now)
    print(f"{db.url.get_backend_name()}: filled {reports:,} reports and {activity:,} activity "
          f"rows in {time.perf_counter() - started:.1f} s {info['seconds']}", flush=True)
    with db.engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS {_INFO_TABLE} (info TEXT)"))
        connection.execute(text(f"DELETE FROM {_INFO_TABLE}"))
        connection.execute(text(f"INSERT INTO {_INFO_TABLE} VALUES (:info)"),
                           {"info": json.dumps(info)})
    return db, info


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
    db, info = _fill(f"sqlite:///{folder / 'dashboard.db'}", args.sqlite_reports)
    rows += measure(db, info, rounds=args.rounds, label="SQLite")
    db.dispose()
    if not args.no_postgres and (filled := _postgres(args.postgres_reports, args.reuse)):
        db, info = filled
        rows += measure(db, info, rounds=args.rounds, label="PostgreSQL")
        db.dispose()
    print()
    print(f"{args.rounds} rounds per case")
    print(table(rows))


if __name__ == "__main__":
    main()
