"""The load benchmark's portal: synthetic reports, client users to sign in, and their PDFs.

The database is filled once by bench.report_rows and reused by later runs while the recorded
description (var/bench/load-sqlite.json or load-postgresql.json) still matches it. Users are
added as employer, payor and TPA users of the filled accounts and signed in by opening
server-side sessions directly (no bcrypt per session). Report rows carry fake file digests;
every report a load session can reach from the searches it makes gets one scan-sized PDF under
its digest (hard links), so downloads read real files from the blob store as in production.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF
from PIL import Image
from sqlalchemy import func, select, text

from bench import report_rows
from db.blob_store import BlobStore
from db.engine import PROJECT_ROOT, Database
from db.migrate import upgrade
from db.models import AccountMembership, Report, User
from services import clock, principals
from services.identity import sessions, terms
from services.reports import search
from services.reports.search import ReportFilter

FOLDER = PROJECT_ROOT / "var" / "bench"
SQLITE_PATH = FOLDER / "load.db"
BLOB_DIR = FOLDER / "load-blobs"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "resultsdesk_bench_load"

# What load sessions type into "Patient name" (common to rare, and none), and how deep they page.
NAMES = ("", "", "smith", "garcia", "nguyen", "lee", "patel", "johnson", "martinez", "smi",
         "kowalski", "maria")
DEEPEST_PAGE = 4


def database_url(postgres: bool) -> str:
    if not postgres:
        return f"sqlite:///{SQLITE_PATH}"
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _fresh_postgres() -> None:
    if PG_DATABASE in ("test", "postgres"):  # never the test suite's or the admin database
        raise SystemExit(f"refusing to recreate {PG_DATABASE}")
    admin = Database(PG_ADMIN_URL)
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    finally:
        admin.dispose()


def _description(url: str) -> Path:
    return FOLDER / ("load-sqlite.json" if url.startswith("sqlite") else "load-postgresql.json")


def _recorded(url: str, reports: int) -> dict | None:
    if not _description(url).exists():
        return None
    info = json.loads(_description(url).read_text(encoding="utf-8"))
    if info.get("url") != url or info.get("reports") != reports:
        return None
    try:
        db = Database(url)
        with db.transaction(write=False) as session:
            present = session.scalar(select(func.max(Report.id)))
        db.dispose()
    except Exception:  # noqa: BLE001 - a missing file or database means "fill again"
        return None
    return info if present == info["report_ids"][1] else None


def prepare(*, postgres: bool, reports: int, fresh: bool) -> dict:
    """Fill (or reuse) the database; returns what bench.report_rows.fill described."""
    url = database_url(postgres)
    info = None if fresh else _recorded(url, reports)
    if info is not None:
        print(f"Reusing {reports:,} reports in {_shown(url)}", flush=True)
        return info
    FOLDER.mkdir(parents=True, exist_ok=True)
    if postgres:
        _fresh_postgres()
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    print(f"Filling {_shown(url)} with {reports:,} reports...", flush=True)
    db = Database(url)
    upgrade(db)
    info = report_rows.fill(db, reports=reports, blob_sha256=_pdf_digest(),
                            now=datetime.now(timezone.utc))
    db.dispose()
    info.update(url=url, load_users=[])
    _description(url).write_text(json.dumps(info, indent=1), encoding="utf-8")
    print(f"  filled in {info['seconds']['total']:.0f} s", flush=True)
    return info


def _shown(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def _pdf() -> bytes:
    """One page the size of a scanned form (about 130 KB: a greyscale JPEG of noise)."""
    noise = Image.frombytes("L", (600, 400), random.Random(3).randbytes(600 * 400))
    jpeg = io.BytesIO()
    noise.save(jpeg, format="JPEG", quality=70)
    document = FPDF()
    # A fixed date keeps the bytes, and so the digest every run links to, the same.
    document.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))
    document.add_page()
    document.set_font("Helvetica", size=10)
    document.cell(0, 10, "Synthetic report for the load benchmark")
    document.image(jpeg, x=10, y=25, w=190)
    return bytes(document.output())


def _pdf_digest() -> str:
    return BlobStore(BLOB_DIR).put(_pdf())


def load_users(info: dict, count: int) -> list[dict]:
    """`count` client users, one per simulated person, added to the accounts as needed."""
    users = info.setdefault("load_users", [])
    if len(users) >= count:
        return users[:count]
    accounts = [*info["employer_account_ids"], *info["payor_account_ids"], info["tpa_account_id"]]
    small = list(reversed(info["small_employer_account_ids"]))[:10]
    # Three of every four people on a large account (employer, payor or TPA), one on a small one.
    turn = [account for index in range(max(len(accounts), len(small)))
            for account in (accounts[index % len(accounts)],
                            accounts[(index + 3) % len(accounts)],
                            accounts[(index + 5) % len(accounts)],
                            small[index % len(small)] if small else accounts[index % len(accounts)])]
    db = Database(info["url"])
    now = clock.now()
    with db.transaction() as session:
        for number in range(len(users), count):
            account = turn[number % len(turn)]
            user = User(email=f"load-{number:03d}@bench.test", name=f"Load Person {number:03d}",
                        password_hash=report_rows.PASSWORD_HASH, status="active", created_at=now)
            session.add(user)
            session.flush()
            terms.record_acceptance(session, user, now=now)
            session.add(AccountMembership(user_id=user.id, account_id=account, role="account_user"))
            users.append({"id": user.id, "account_id": account})
    db.dispose()
    _description(info["url"]).write_text(json.dumps(info, indent=1), encoding="utf-8")
    return users


def sign_in(info: dict, users: list[dict]) -> list[str]:
    """A server-side session per user, as a successful sign-in opens; the cookie tokens."""
    db = Database(info["url"])
    with db.transaction() as session:
        tokens = [sessions.start(session, user=session.get(User, user["id"]), now=clock.now())
                  for user in users]
    db.dispose()
    return tokens


def place_pdfs(info: dict, users: list[dict]) -> int:
    """Put the PDF under the digest of every report the sessions' searches can reach."""
    db = Database(info["url"])
    pdf = _pdf()
    digest = hashlib.sha256(pdf).hexdigest()
    if info.get("placed_pdf") != digest:
        # Another PDF was placed before: start the links again.
        shutil.rmtree(BLOB_DIR, ignore_errors=True)
        info["placed_pdf"] = digest
        _description(info["url"]).write_text(json.dumps(info, indent=1), encoding="utf-8")
    store = BlobStore(BLOB_DIR)
    store.put(pdf)
    source = store._path(digest)
    placed = 0
    seen_accounts: set[int] = set()
    for user in users:
        if user["account_id"] in seen_accounts:
            continue
        seen_accounts.add(user["account_id"])
        with db.transaction(write=False) as session:
            principal = principals.load(session, session.get(User, user["id"]))
        reachable: set[int] = set()
        for name in set(NAMES):
            cursor = None
            for _ in range(DEEPEST_PAGE + 1):
                page = search.search(db, principal, ReportFilter(patient_name=name),
                                            after=cursor, with_count=False)
                reachable.update(row.id for row in page.rows)
                cursor = page.next_cursor
                if cursor is None:
                    break
        with db.transaction(write=False) as session:
            digests = session.scalars(select(Report.file_sha256)
                                      .where(Report.id.in_(reachable))).all()
        for digest in digests:
            target = store._path(digest)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, target)
                placed += 1
    db.dispose()
    return placed
