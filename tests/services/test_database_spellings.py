"""The inserts that meet an existing row behave alike on SQLite and PostgreSQL (db.dialect)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from db import dialect
from db.models import AccountActivityDaily

DAY = date(2026, 11, 2)


def _rows(db) -> list[tuple]:
    with db.transaction(write=False) as session:
        return [tuple(row) for row in session.execute(
            select(AccountActivityDaily.account_id, AccountActivityDaily.user_id,
                   AccountActivityDaily.sign_ins, AccountActivityDaily.opens,
                   AccountActivityDaily.downloads)
            .order_by(AccountActivityDaily.account_id, AccountActivityDaily.user_id))]


def _row(account_id: int, user_id: int, sign_ins: int = 0, opens: int = 0, downloads: int = 0):
    return {"account_id": account_id, "day": DAY, "user_id": user_id, "sign_ins": sign_ins,
            "opens": opens, "downloads": downloads}


def test_insert_or_ignore_keeps_the_row_already_there_and_returns_only_new_keys(db):
    with db.transaction() as session:
        session.execute(dialect.insert_or_ignore(session, AccountActivityDaily), [_row(1, 7, sign_ins=1)])
    with db.transaction() as session:
        inserted = session.scalars(
            dialect.insert_or_ignore(session, AccountActivityDaily)
            .values([_row(1, 7, sign_ins=5), _row(2, 7, opens=3)])
            .returning(AccountActivityDaily.account_id)).all()
    assert inserted == [2]
    assert _rows(db) == [(1, 7, 1, 0, 0), (2, 7, 0, 3, 0)]


def test_insert_or_add_adds_the_named_counters_only(db):
    key = ("account_id", "day", "user_id")
    with db.transaction() as session:
        session.execute(dialect.insert_or_add(session, AccountActivityDaily, key=key,
                                              counters=("sign_ins", "opens")),
                        [_row(1, 7, sign_ins=1, opens=2, downloads=4)])
    with db.transaction() as session:
        session.execute(dialect.insert_or_add(session, AccountActivityDaily, key=key,
                                              counters=("sign_ins", "opens")),
                        [_row(1, 7, sign_ins=2, opens=5, downloads=9), _row(3, 7, downloads=1)])
    assert _rows(db) == [(1, 7, 3, 7, 4), (3, 7, 0, 0, 1)]


def test_a_period_is_a_week_or_a_month(db):
    with db.transaction(write=False) as session:
        assert session.scalar(select(dialect.period_start(session, date(2026, 11, 5), "week"))) \
            in (date(2026, 11, 2), "2026-11-02")
        assert session.scalar(select(dialect.period_start(session, date(2026, 11, 5), "month"))) \
            in (date(2026, 11, 1), "2026-11-01")
        with pytest.raises(ValueError):
            dialect.period_start(session, date(2026, 11, 5), "day'); --")
