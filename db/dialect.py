"""What SQLite and PostgreSQL spell differently, side by side, so services say the idea once.

Each helper sends each database the statement it received before these helpers existed: where
one database needs nothing (SQLite's write transactions already run one at a time, so it takes
no lock), nothing is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    cast,
    column,
    extract,
    false,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import Patient
from db.models.reports import NAME_FOLD_FROM, NAME_FOLD_TO, PG_NAME_VECTOR

_FOLD = str.maketrans(NAME_FOLD_FROM, NAME_FOLD_TO)
PERIODS = ("week", "month")


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: Session, model):
    return (postgresql if is_postgresql(session) else sqlite).insert(model)


# Inserts that meet an existing row ---------------------------------------------------------

def insert_or_ignore(session: Session, model):
    """INSERT ... ON CONFLICT DO NOTHING: a row whose key is already there is left as it is."""
    return _insert(session, model).on_conflict_do_nothing()


def insert_or_add(session: Session, model, *, key: Iterable[str], counters: Iterable[str]):
    """INSERT, or where a row with this key exists, add the new values to its `counters`."""
    statement = _insert(session, model)
    table = model.__table__
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + statement.excluded[name] for name in counters})


# Taking turns ------------------------------------------------------------------------------

def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key for a name (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def take_turns(session: Session, key: int) -> None:
    """Writers holding the same key run one at a time until their transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing (BEGIN IMMEDIATE already).
    """
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def lock_rows(session: Session, query: Select) -> None:
    """Hold the rows `query` selects until commit (PostgreSQL: SELECT ... FOR UPDATE)."""
    if is_postgresql(session):
        session.execute(query.with_for_update())


def skipping_locked_rows(session: Session, query: Select) -> Select:
    """The query taking the rows it finds, passing over rows another transaction holds
    (PostgreSQL: FOR UPDATE SKIP LOCKED) instead of waiting for them."""
    return query.with_for_update(skip_locked=True) if is_postgresql(session) else query


def hold_off_writes(session: Session, *models) -> None:
    """Changes to these tables wait until this transaction ends (PostgreSQL: LOCK TABLE ...
    IN SHARE MODE); reads go on."""
    if is_postgresql(session):
        names = ", ".join(model.__tablename__ for model in models)
        session.execute(text(f"LOCK TABLE {names} IN SHARE MODE"))


# Dates -------------------------------------------------------------------------------------

def epoch_seconds(session: Session, value) -> ColumnElement[int]:
    """Whole seconds since 1970 (UTC), the same on both databases."""
    if is_postgresql(session):
        return cast(func.floor(extract("epoch", value)), BigInteger)
    return cast(func.strftime("%s", value), Integer)


def utc_day(session: Session, value) -> ColumnElement:
    """The UTC calendar day of a timestamp."""
    if is_postgresql(session):
        # A literal, not a parameter: PostgreSQL must see the same expression in GROUP BY.
        return cast(func.timezone(literal_column("'UTC'"), value), Date)
    return type_coerce(func.date(value), Date)


def period_start(session: Session, day, period: str) -> ColumnElement:
    """The first day (Monday, or the 1st) of the week or month a day falls in."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    if is_postgresql(session):
        return cast(func.date_trunc(literal_column(f"'{period}'"), day), Date)
    if period == "week":
        return type_coerce(func.date(day, literal_column("'-6 days'"),
                                     literal_column("'weekday 1'")), Date)
    return type_coerce(func.date(day, literal_column("'start of month'")), Date)


# Searching ---------------------------------------------------------------------------------

def in_without_its_index(session: Session, value: ColumnElement, subquery) -> ColumnElement[bool]:
    """`value IN (subquery)`, spelled so the planner does not drive the query from value's index.

    PostgreSQL: inside a function call the IN stays a subquery that it hashes once, instead of
    a join that loops over the matches for every row. SQLite: `value + 0` keeps its planner
    off the index on value.
    """
    if is_postgresql(session):
        return func.coalesce(value.in_(subquery), false())
    return (value + 0).in_(subquery)


def patients_named(session: Session, words: list[str]):
    """Ids of patients with a name word starting with each of `words` (letters and digits,
    lower case), answered by the name index: SQLite's FTS5 table, PostgreSQL's GIN index."""
    if not is_postgresql(session):
        # Words come from \w+, so they hold no FTS5 syntax; each is matched as a prefix.
        match = " ".join(f'"{w}"*' for w in words)
        return text("SELECT rowid FROM patient_name_search WHERE patient_name_search MATCH :match"
                    ).bindparams(match=match).columns(column("rowid", Integer))
    folded = [w.translate(_FOLD).lower() for w in words]
    query = " & ".join(f"{w}:*" for w in folded)
    # The expression is the GIN index's own (migration 0002), so the index answers it.
    return select(Patient.id).where(text(f"{PG_NAME_VECTOR} @@ to_tsquery('simple', :tsquery)")
                                    .bindparams(tsquery=query))
