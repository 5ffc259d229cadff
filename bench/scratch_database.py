"""Scratch databases filled with synthetic reports for the benchmarks (never a real one).

SQLite: a fresh file, or one kept from an earlier run when asked to reuse it. PostgreSQL: a
database of its own on the server at BENCH_POSTGRES_URL, dropped and re-created, or kept when
asked to reuse one that already holds as many reports.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, text

from bench import report_rows
from db.engine import Database
from db.migrate import upgrade
from db.models import AccountActivityDaily

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_INFO_TABLE = "bench_fill_info"


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


def scratch_postgres(name: str, reports: int, reuse: bool,
                     keeps: Callable[[dict], bool] = lambda saved: True,
                     ) -> tuple[str, tuple[Database, dict] | None]:
    """The URL of the scratch PostgreSQL database `name`, and with `reuse` the database kept
    from an earlier run (with its saved info) when it holds `reports` reports and `keeps` accepts
    it; otherwise the database is made anew, empty."""
    admin = Database(PG_URL)
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": name})
            if reuse and exists:
                db = Database(url)
                saved = _saved_info(db, reports)
                if saved is not None and keeps(saved):
                    return url, (db, {**saved, "reused": True})
                db.dispose()
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return url, None


def postgres_filled(reports: int, reuse: bool, name: str) -> tuple[Database, dict] | None:
    """A scratch PostgreSQL database `name` holding `reports` reports (kept with --reuse)."""
    try:
        url, kept = scratch_postgres(name, reports, reuse)
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable here"
        print(f"PostgreSQL skipped: {error.__class__.__name__}")
        return None
    return kept or filled(url, reports)


def sqlite_filled(path: Path, reports: int, reuse: bool) -> tuple[Database, dict]:
    """A scratch SQLite file at `path` holding `reports` reports (kept with `reuse`)."""
    url = f"sqlite:///{path}"
    if reuse and path.exists():
        db = Database(url)
        saved = _saved_info(db, reports)
        if saved is not None:
            upgrade(db)  # a file kept from before a new migration gets its new columns
            return db, {**saved, "reused": True}
        db.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return filled(url, reports)


def _saved_info(db: Database, reports: int) -> dict | None:
    try:
        with db.engine.connect() as connection:
            saved = connection.scalar(text(f"SELECT info FROM {_INFO_TABLE}"))
    except Exception:  # noqa: BLE001 - no saved fill
        return None
    info = json.loads(saved) if saved else None
    return info if info and info["reports"] == reports else None


def filled(url: str, reports: int) -> tuple[Database, dict]:
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
