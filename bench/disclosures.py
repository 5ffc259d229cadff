"""A patient's accounting of disclosures at scale: 10,000,000 reports, 50,000,000 audit events.

    python -m bench.disclosures [--reports 10000000] [--events 50000000] [--patients-measured 300]
                                [--reuse] [--database benchdisclosures]

Fills a PostgreSQL database of its own (dropped and re-created; --reuse keeps one already
holding as many reports and events) with synthetic reports and routing (bench.report_rows,
through COPY) and then an audit trail through COPY ... FREEZE: each report's posting, about
three openings, previews and downloads by client users within days of it, a re-delivery or a
withdrawal now and then, and sign-ins to make up the count. The audit indexes are dropped for
the load and re-created from their stored definitions afterwards.

Then it produces the accounting for many different patients through the service (the staff
check, every query and its own audit event, as the screen does), prints median and p95 over
them, and EXPLAIN (ANALYZE, BUFFERS) of the audit-trail query for one patient.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date, datetime, timezone

from sqlalchemy import select, text

from bench import report_rows
from bench.scratch_database import scratch_postgres
from bench.timing import p95
from db.engine import Database
from db.migrate import upgrade
from db.models import Report, User
from services import principals

TARGET_MS = 500
_ACCESS = ("report.opened", "report.previewed", "report.downloaded")
_EVENT_COLUMNS = ("id, occurred_at, actor_user_id, actor_email, action, target_type, target_id, "
                  "outcome, details, prev_hash, hash")
_CHUNK = 200_000


def _database(name: str, reports: int, events: int, reuse: bool) -> tuple[Database, dict]:
    url, kept = scratch_postgres(name, reports, reuse,
                                 keeps=lambda saved: saved.get("audit_events_asked") == events)
    if kept is not None:
        return kept
    db = Database(url)
    upgrade(db)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    # The Dashboard's rollup is not read here; rebuilding it costs minutes at 10M reports.
    report_rows.report_volume.rebuild = lambda db: None
    started = time.perf_counter()
    info = report_rows.fill(db, reports=reports, blob_sha256="0" * 64, now=now)
    print(f"reports: {reports:,} in {time.perf_counter() - started:.0f} s {info['seconds']}",
          flush=True)
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bench_fill_info (info TEXT)"))
        connection.execute(text("INSERT INTO bench_fill_info VALUES ('{}')"))
    started = time.perf_counter()
    info["audit_events"] = _fill_audit(db, events, info)
    info["audit_events_asked"] = events
    info["audit_seconds"] = round(time.perf_counter() - started, 1)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE bench_fill_info SET info = :info"),
                           {"info": json.dumps(info)})
    print(f"audit trail: {info['audit_events']:,} events in {info['audit_seconds']} s", flush=True)
    return db, info


def _client_users(db: Database, info: dict) -> list[tuple[int, str]]:
    keys = ("employer", "payor", "tpa", "small_employer")
    return [(info["users"][key]["id"], info["users"][key]["email"])
            for key in keys if key in info["users"]]


def _fill_audit(db: Database, events: int, info: dict) -> int:
    """COPY the audit trail: per report, posting, accesses and now and then a staff action."""
    rng = random.Random(29)
    readers = _client_users(db, info)
    clinic = (info["users"]["provider_staff"]["id"], info["users"]["provider_staff"]["email"])
    support = (info["users"]["support_rep"]["id"], info["users"]["support_rep"]["email"])
    reports = info["reports"]
    # Report events average 4 per report (posting and three accesses); sign-ins fill the rest.
    per_report_extra = max(0.0, events / max(reports, 1) - 4.0)
    day0 = date(2020, 1, 1).toordinal()
    days = [date.fromordinal(day0 + k).isoformat() for k in range(4000)]
    times = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86_400)]
    epoch_day0 = (datetime(2020, 1, 1, tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)).days
    now_epoch = int(datetime.fromisoformat(info["now"]).timestamp())

    def stamp(epoch: int) -> str:
        day = epoch // 86_400
        return days[day - epoch_day0] + times[epoch - day * 86_400]

    read_raw = db.engine.raw_connection()
    write_raw = db.engine.raw_connection()
    written = 0
    try:
        reader = read_raw.driver_connection
        writer = write_raw.driver_connection
        reader.rollback()
        writer.rollback()
        with writer.transaction(), writer.cursor() as cur:
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cur.execute("SET LOCAL synchronous_commit = off")
            # The trail is append-only (a trigger refuses TRUNCATE and UPDATE); this database
            # is the bench's own and empty, so the load may start it afresh, frozen.
            cur.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
            cur.execute("TRUNCATE audit_events")
            cur.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                        "WHERE indrelid = 'audit_events'::regclass AND NOT EXISTS "
                        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)")
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {name}")
            next_id = 1
            rnd = rng.random
            with reader.cursor(name="bench_reports") as source, \
                    cur.copy(f"COPY audit_events ({_EVENT_COLUMNS}) FROM STDIN (FREEZE)") as copy:
                source.itersize = _CHUNK
                source.execute("SELECT id, extract(epoch FROM posted_at)::bigint FROM reports "
                               "ORDER BY id")
                lines: list[str] = []
                for report_id, posted in source:
                    target = f"\treport\t{report_id}\tsuccess\t{{}}\t\\N\t\\N\n"
                    lines.append(f"{next_id}\t{stamp(posted)}\t{clinic[0]}\t{clinic[1]}"
                                 f"\treport.posted{target}")
                    next_id += 1
                    at = posted
                    for _ in range(int(rnd() * 7)):  # 0 to 6 accesses, three on average
                        at += 60 + int(rnd() * 86_400)
                        if at >= now_epoch:
                            break
                        user = readers[int(rnd() * len(readers))]
                        lines.append(f"{next_id}\t{stamp(at)}\t{user[0]}\t{user[1]}"
                                     f"\t{_ACCESS[int(rnd() * 3)]}{target}")
                        next_id += 1
                    chance = rnd()
                    if chance < 0.012 and at + 3600 < now_epoch:
                        action = "report.redelivered" if chance < 0.01 else "report.withdrawn"
                        lines.append(f"{next_id}\t{stamp(at + 3600)}\t{support[0]}\t{support[1]}"
                                     f"\t{action}{target}")
                        next_id += 1
                    extra = int(per_report_extra) + (rnd() < per_report_extra % 1)
                    for _ in range(extra):
                        user = readers[int(rnd() * len(readers))]
                        signed = posted + int(rnd() * 86_400)
                        if signed >= now_epoch:
                            signed = posted
                        lines.append(f"{next_id}\t{stamp(signed)}\t{user[0]}\t{user[1]}"
                                     f"\tsign_in\tuser\t{user[0]}\tsuccess\t{{}}\t\\N\t\\N\n")
                        next_id += 1
                    if len(lines) >= _CHUNK:
                        copy.write("".join(lines))
                        written += len(lines)
                        lines = []
                        if written % 5_000_000 < _CHUNK:
                            print(f"  {written:,} audit events", flush=True)
                if lines:
                    copy.write("".join(lines))
                    written += len(lines)
            reader.rollback()
            started = time.perf_counter()
            for name, definition in indexes:
                cur.execute(definition)
                print(f"  index {name} in {time.perf_counter() - started:.0f} s", flush=True)
            # audit.record chains on from the newest event with a hash: give the last one a hash,
            # as a real trail has on every event.
            cur.execute("UPDATE audit_events SET hash = repeat('0', 64), prev_hash = repeat('0', 64) "
                        "WHERE id = (SELECT max(id) FROM audit_events)")
            cur.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
            cur.execute("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), max(id)) "
                        "FROM audit_events")
            cur.execute("ANALYZE audit_events")
    finally:
        read_raw.invalidate()
        write_raw.invalidate()
    return written


def _patients(db: Database, info: dict, count: int) -> list[int]:
    """Patients with reports, spread over the id range (each has about five)."""
    rng = random.Random(5)
    first, last = info["patient_ids"]
    chosen = rng.sample(range(first, last + 1), min(count * 2, last - first + 1))
    with db.transaction(write=False) as session:
        having = set(session.scalars(select(Report.patient_id)
                                     .where(Report.patient_id.in_(chosen)).distinct()))
    return [patient for patient in chosen if patient in having][:count]


def _privacy_officer(db: Database) -> principals.Principal:
    """A privacy officer for the run (added once; kept with --reuse)."""
    email = "bench-privacy@bench.test"
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            from db.models import StaffRole
            user = User(email=email, name="Pat Privacy", password_hash="x", status="active",
                        created_at=datetime.now(timezone.utc))
            session.add(user)
            session.flush()
            session.add(StaffRole(user_id=user.id, role="privacy_officer"))
            session.flush()
        return principals.load(session, user)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--patients-measured", type=int, default=300)
    parser.add_argument("--database", default="benchdisclosures")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--fill-only", action="store_true")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    db, info = _database(args.database, args.reports, args.events, args.reuse)
    print(f"database {args.database}: {info['reports']:,} reports, {info['patients']:,} patients, "
          f"{info['report_recipients']:,} routings, {info['audit_events']:,} audit events "
          f"({'kept from an earlier run' if info.get('reused') else f'filled in {time.perf_counter() - started:.0f} s'})",
          flush=True)
    with db.engine.connect() as connection:
        sizes = connection.execute(text(
            "SELECT pg_size_pretty(pg_total_relation_size('audit_events')), "
            "pg_size_pretty(pg_total_relation_size('reports')), "
            "pg_size_pretty(pg_database_size(current_database()))")).one()
    print(f"sizes: audit_events {sizes[0]}, reports {sizes[1]}, database {sizes[2]}", flush=True)
    if args.fill_only:
        return
    from services.privacy import disclosures  # noqa: PLC0415 - a fill needs no service
    from services.reports import access_trail  # noqa: PLC0415

    with db.engine.begin() as connection:
        # A real trail carries a hash on every event, so audit.record's "newest hashed event"
        # is the newest row, found at once walking the primary key backwards. The filled rows
        # have none (only the last), and PostgreSQL's statistics then make it scan all 50M rows
        # (3.7 s a call, measured). This bench-only partial index stands in for a hashed trail.
        connection.execute(text("CREATE INDEX IF NOT EXISTS bench_audit_events_hashed "
                                "ON audit_events (id) WHERE hash IS NOT NULL"))
    officer = _privacy_officer(db)
    patients = _patients(db, info, args.patients_measured)
    today = datetime.now(timezone.utc).date()
    start = today.replace(year=today.year - 6)
    timings, lines = [], []
    for patient_id in patients:
        began = time.perf_counter()
        accounting = disclosures.account(db, officer, patient_id=patient_id)
        timings.append((time.perf_counter() - began) * 1000)
        lines.append(len(accounting.lines))
    print(f"accounting of disclosures, {len(patients)} patients, {start} to {today}: "
          f"median {statistics.median(timings):.1f} ms, p95 {p95(timings):.1f} ms, "
          f"max {max(timings):.1f} ms (target p95 <= {TARGET_MS} ms); "
          f"lines per accounting: median {statistics.median(lines):.0f}, max {max(lines)}",
          flush=True)
    # Cold: a patient measured for the first time, never read by this run before.
    print("EXPLAIN (ANALYZE, BUFFERS) of the audit-trail query for one patient:")
    with db.transaction(write=False) as session:
        report_ids = session.scalars(select(Report.id).where(Report.patient_id == patients[0])).all()
        since, until = disclosures.utc_bounds(start, today, officer.zone)
        query = access_trail.trail_query(
            report_ids, actions=disclosures.ACCOUNTED_ACTIONS,
            start=since, end=until)
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        for (line,) in session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")):
            print(f"    {line}")
    db.dispose()


if __name__ == "__main__":
    main()
