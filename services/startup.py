"""Opening the portal's database, and what `make run` does before the server starts."""

from __future__ import annotations

from db.engine import Database, database_url
from db.migrate import upgrade

__all__ = ["database_url", "open_database"]


def open_database(url: str | None = None) -> Database:
    """Connect and bring the schema up to date (safe to run from several replicas at once)."""
    db = Database(url)
    upgrade(db)
    return db
