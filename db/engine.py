"""Where the database is and how a unit of work talks to it.

SQLite (the default, a file under var/) gets WAL, a busy timeout, foreign keys and
`BEGIN IMMEDIATE` for write transactions, so a read-then-write cannot interleave with another
writer. PostgreSQL is reached through DATABASE_URL with psycopg 3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from db import dialect

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "resultsdesk.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
_WRITE_OPTION = "resultsdesk_write"


def database_url() -> str:
    """The configured database URL (read at call time so tests and CLIs can set it)."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _normalise(url: str) -> URL:
    parsed = make_url(url)
    # A bare postgresql:// URL would pick psycopg2, which is not installed.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's begin event decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get(_WRITE_OPTION, True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """One engine and its session factory; the only object the services need to reach data."""

    def __init__(self, url: str | None = None) -> None:
        self.url = _normalise(url or database_url())
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=10)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            session.connection(execution_options={_WRITE_OPTION: write})
            yield session
            if write:
                session.commit()
            # A read ends by closing: the pool rolls the connection back, and the objects read
            # stay usable (a rollback here would expire them).
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def serialise(self, session: Session, name: str) -> None:
        """Let one transaction at a time past this point, for check-then-insert work.

        SQLite write transactions are already serial (BEGIN IMMEDIATE, issued here if nothing
        has run yet in this transaction); PostgreSQL takes a transaction-scoped advisory lock
        named after `name`.
        """
        if self.is_sqlite:
            session.connection()  # begins the transaction now, not at the first query
        else:
            dialect.take_turns(session, dialect.lock_key(name))

    def dispose(self) -> None:
        self.engine.dispose()
