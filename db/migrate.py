"""Opening the portal's database: connect, then bring it to the newest schema (every app start,
every command, and `make migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from db.engine import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed number: replicas starting together take turns instead of racing the DDL.
_PG_MIGRATION_LOCK = 7_400_211


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation: a password or option with % must be escaped.
    config.set_main_option("sqlalchemy.url",
                           db.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def open_database(url: str | None = None) -> Database:
    """Connect and bring the schema up to date (safe to run from several replicas at once)."""
    db = Database(url)
    upgrade(db)
    return db


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every pending migration."""
    config = alembic_config(db)
    with db.engine.connect() as connection:
        if not db.is_sqlite:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if not db.is_sqlite:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                connection.commit()

