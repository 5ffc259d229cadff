"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, a fake clock, users.

PostgreSQL comes from TEST_DATABASE_URL (default: the local `test` database; with several test
processes, as `make test` runs them, one database per process beside it). When it cannot
be reached the PostgreSQL half of each test is skipped with the reason, unless
REQUIRE_POSTGRES=1, which turns that skip into a failure (CI sets it).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, select, text

from db.engine import Database
from db.migrate import upgrade
from db.models import AccountMembership, Base, Membership, StaffRole, User
from services import clock
from services.identity import passwords

# Every test stores report files sealed, as the portal does: one fixed master key for the whole
# run (BlobStore(folder) and servers started from tests read it from the environment).
TEST_BLOB_KEY = "dGVzdC1vbmx5LXJlcG9ydC1maWxlLWtleS0zMmJ5dGU="
os.environ.setdefault("RESULTSDESK_BLOB_KEY", TEST_BLOB_KEY)

# The portal hashes at bcrypt cost 12, 0.2 s a check. Tests hash and check at bcrypt's lowest
# cost: the same format and the same code, some 250 times faster. The tests of the cost itself
# ask for `portal_bcrypt_cost`.
PORTAL_BCRYPT_ROUNDS = passwords.ROUNDS
passwords.ROUNDS = 4

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "Correct-Horse-Battery-9!"
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def _required(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _skip_or_fail(variable: str, reason: str) -> None:
    if _required(variable):
        pytest.fail(f"{reason} ({variable}=1 makes this a failure)")
    pytest.skip(reason)


@pytest.fixture
def portal_bcrypt_cost(monkeypatch):
    """bcrypt at the portal's own cost, for the tests of that cost."""
    monkeypatch.setattr(passwords, "ROUNDS", PORTAL_BCRYPT_ROUNDS)
    passwords._decoy_hash.cache_clear()
    yield PORTAL_BCRYPT_ROUNDS
    passwords._decoy_hash.cache_clear()


@pytest.fixture(scope="session")
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


def postgres_test_url() -> URL:
    """TEST_DATABASE_URL, or with several test processes (make test) one database per process
    beside it (`test_gw0`, `test_gw1`, ...), since each process empties its database."""
    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return url.set(database=f"{url.database}_{worker}") if worker else url


def _create_worker_database(url: URL) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": url.database}).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database():
    url = postgres_test_url()
    db = Database(url.render_as_string(hide_password=False))
    try:
        _create_worker_database(url)
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any connection problem means "no PostgreSQL here"
        db.dispose()
        _skip_or_fail("REQUIRE_POSTGRES", f"PostgreSQL not reachable at {db.url.render_as_string()}: {error.__class__.__name__}")
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    _MIGRATED_ROWS.update(_rows_of(db))
    yield db
    db.dispose()


# Rows the migrations themselves write (the report types, the first terms of use), as a freshly
# migrated database has them: each emptied PostgreSQL database gets them back, like SQLite's copy.
_MIGRATED_ROWS: dict[str, list[dict]] = {}


def _rows_of(db: Database) -> dict[str, list[dict]]:
    with db.engine.connect() as connection:
        found = {table.name: [dict(row._mapping) for row in connection.execute(table.select())]
                 for table in Base.metadata.sorted_tables}
    return {name: rows for name, rows in found.items() if rows}


def _empty_postgres(db: Database) -> None:
    # DELETE rather than TRUNCATE: the tables a test fills hold a handful of rows, and TRUNCATE
    # gives each of some fifty tables a new file on every test (about 55 ms against 6 ms).
    tables = list(reversed(Base.metadata.sorted_tables))
    statements = [
        # The audit trail refuses DELETE by trigger; replica mode skips triggers (and the foreign
        # key checks) for this reset only.
        "SET LOCAL session_replication_role = replica",
        *(f"DELETE FROM {table.name}" for table in tables),
        "SELECT setval(oid, 1, false) FROM pg_class "
        "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace",
    ]
    with db.engine.begin() as connection:
        connection.exec_driver_sql(";\n".join(statements))
        for table in Base.metadata.sorted_tables:
            rows = _MIGRATED_ROWS.get(table.name)
            if not rows:
                continue
            connection.execute(table.insert(), rows)
            if "id" in table.c and table.c.id.autoincrement:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, sqlite_template):
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "resultsdesk.db"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
    else:
        database = request.getfixturevalue("postgres_database")
        _empty_postgres(database)
        yield database


@pytest.fixture
def postgres_db(postgres_database):
    """An empty PostgreSQL database, for the few behaviours only PostgreSQL has."""
    _empty_postgres(postgres_database)
    return postgres_database


@dataclass
class FakeClock:
    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock(START)
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


@pytest.fixture
def make_user(db, password_hash):
    """Create a user with roles; returns the user id. Password is tests.conftest.PASSWORD."""

    def create(email: str, *, name: str = "Test User", status: str = "active", staff: tuple[str, ...] = (),
               provider: tuple[tuple[int, int | None, str], ...] = (),
               accounts: tuple[tuple[int, str], ...] = ()) -> int:
        with db.transaction() as session:
            user = User(email=email, name=name, password_hash=password_hash, status=status,
                        created_at=clock.now())
            session.add(user)
            session.flush()
            session.add_all(StaffRole(user_id=user.id, role=role) for role in staff)
            session.add_all(Membership(user_id=user.id, group_id=g, provider_id=p, role=r) for g, p, r in provider)
            session.add_all(AccountMembership(user_id=user.id, account_id=a, role=r) for a, r in accounts)
            return user.id

    return create


def principal_of(db: Database, email: str):
    """The principal of the user with this email, as the services load it."""
    from services import principals

    with db.transaction(write=False) as session:
        return principals.load(session, session.scalars(select(User).where(User.email == email)).one())


def _browser_groups() -> int:
    """The browser tests are the longest part of the suite: one group per test process, each group
    in one process with its own shared portal (every process collects the same groups)."""
    return max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


def pytest_collection_modifyitems(items):
    """With several test processes (make test), each test file runs whole in one of them, and the
    browser test files in one group per process (files dealt out in name order), each group in
    one process in file order: a group's files share one portal and its demo data, so they meet
    that data in the same order every run."""
    browser_tests = Path(__file__).parent / "e2e"
    browser_files = sorted({Path(item.fspath) for item in items
                            if browser_tests in Path(item.fspath).parents})
    groups = _browser_groups()
    browser_group = {path: f"browser-{index % groups}"
                     for index, path in enumerate(browser_files)}
    for item in items:
        path = Path(item.fspath)
        group = browser_group.get(path) or str(path.relative_to(path.parents[1]))
        item.add_marker(pytest.mark.xdist_group(group))
        if path in browser_group:
            # A walk runs a real server and Chromium beside the rest of the suite on two cores;
            # one run in a few lost a click to a rerun under that load. A failed walk is run once
            # more and the summary lists it as RERUN; failing twice fails the suite.
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
