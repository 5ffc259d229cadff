"""Measure what every page run and every sign-in costs, on SQLite and (if reachable) PostgreSQL.

    python -m bench.sign_in [--rounds N]

Prints median and p95 for: resuming a session (done on every Streamlit rerun), a successful
sign-in, and failed sign-ins for a known and for an unknown email (these two must cost the
same, or timing would tell which addresses have accounts).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

from sqlalchemy import text

from bench.timing import p95, timings_ms
from db.engine import Database
from db.migrate import upgrade
from db.models import StaffRole, User
from services import clock
from services.errors import SignInFailed
from services.identity import auth, passwords, sessions

PASSWORD = "Bench-Password-1!"


def _row(name: str, values: list[float]) -> str:
    return f"| {name} | {statistics.median(values):.2f} | {p95(values):.2f} |"


def _refused(db: Database, email: str, password: str) -> None:
    try:
        auth.sign_in(db, email=email, password=password)
    except SignInFailed:
        return
    raise AssertionError("a wrong password signed in")


def measure(db: Database, rounds: int) -> list[str]:
    upgrade(db)
    with db.transaction() as session:
        for index in range(3):
            user = User(email=f"bench{index}@bench.test", name="Bench", status="active",
                        password_hash=passwords.hash_password(PASSWORD), created_at=clock.now())
            session.add(user)
            session.flush()
            session.add(StaffRole(user_id=user.id, role="support_rep"))
    token = auth.sign_in(db, email="bench0@bench.test", password=PASSWORD).token
    slow_rounds = max(5, rounds // 20)
    return [
        _row("resume session (every rerun)", timings_ms(lambda: sessions.resume(db, token), rounds)),
        _row("sign in, right password", timings_ms(
            lambda: auth.sign_in(db, email="bench1@bench.test", password=PASSWORD), slow_rounds)),
        # Alternate wrong and right so the known account never reaches the lockout.
        _row("sign in, wrong password (known email)", timings_ms(
            lambda: (_refused(db, "bench2@bench.test", "wrong"),
                     auth.sign_in(db, email="bench2@bench.test", password=PASSWORD)), slow_rounds)),
        _row("sign in, unknown email (x2)", timings_ms(
            lambda: (_refused(db, "nobody@bench.test", "wrong"),
                     _refused(db, "nobody@bench.test", "wrong")), slow_rounds)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    targets = [("SQLite", f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    pg = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    targets.append(("PostgreSQL", pg))
    for label, url in targets:
        db = Database(url)
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            print(f"\n{label}: skipped ({error.__class__.__name__}: not reachable)")
            continue
        if not db.is_sqlite:
            # A scratch schema keeps the benchmark's rows out of everything else in that database.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS resultsdesk_bench CASCADE"))
                connection.execute(text("CREATE SCHEMA resultsdesk_bench"))
            db.dispose()
            db = Database(url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dresultsdesk_bench")
        print(f"\n{label} ({args.rounds} rounds; times in ms)\n| step | median | p95 |\n|---|---|---|")
        for line in measure(db, args.rounds):
            print(line)
        if not db.is_sqlite:
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA resultsdesk_bench CASCADE"))
        db.dispose()


if __name__ == "__main__":
    main()
