"""The audit trail: append-only in the database itself, readable only by those who review it,
and searchable page by page without losing or repeating an event."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import exc, func, select, text

from db.models import AuditEvent, User
from services import audit, principals
from services.errors import PermissionDenied
from services.privacy import audit_review
from services.privacy.audit_review import AuditFilter
from tests.conftest import START


def _principal(db, user_id):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _all_events(db) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _record(db, rows) -> None:
    """rows: (action, actor_email, occurred_at) in the order they are inserted."""
    with db.transaction() as session:
        for action, actor_email, at in rows:
            audit.record(session, action=action, actor_email=actor_email, target_type="user",
                         target_id=1, details={"n": 1}, now=at)


def _snapshot(db):
    return [(e.id, e.occurred_at, e.action, e.outcome, e.actor_email, e.target_id, e.details)
            for e in _all_events(db)]


# --- append-only, enforced by the database -------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET outcome = 'tampered', details = '{}' WHERE id = :id",
    "UPDATE audit_events SET actor_email = NULL",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
])
def test_raw_sql_cannot_change_or_remove_audit_events(db, fake_clock, statement):
    _record(db, [("permission.denied", "mallory@x.test", START), ("sign_in", "mallory@x.test", START)])
    before = _snapshot(db)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with db.transaction() as session:
            session.execute(text(statement), {"id": before[0][0]})
    assert _snapshot(db) == before


def test_an_orm_edit_of_an_audit_event_is_refused_too(db, fake_clock):
    _record(db, [("permission.denied", "mallory@x.test", START)])
    before = _snapshot(db)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with db.transaction() as session:
            event = session.scalars(select(AuditEvent)).one()
            event.outcome, event.actor_email = "tampered", None
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with db.transaction() as session:
            session.delete(session.scalars(select(AuditEvent)).one())
    assert _snapshot(db) == before


def test_truncate_is_refused_on_postgresql(postgres_db, fake_clock):
    # SQLite has no TRUNCATE; DELETE without WHERE is covered above on both databases.
    _record(postgres_db, [("sign_in", "mallory@x.test", START)])
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with postgres_db.transaction() as session:
            session.execute(text("TRUNCATE audit_events"))
    assert len(_all_events(postgres_db)) == 1


# --- who may search it ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ["support_rep", "manager", "account_rep"])
def test_search_is_refused_and_audited_for_roles_that_do_not_review_audit(db, make_user, fake_clock, role):
    actor = _principal(db, make_user("curious@x.test", staff=(role,)))
    _record(db, [("sign_in", "someone@x.test", START)])
    with pytest.raises(PermissionDenied):
        audit_review.search(db, actor, where=AuditFilter())
    events = _all_events(db)
    assert len(events) == 2
    denial = events[-1]
    assert (denial.action, denial.outcome, denial.actor_user_id, denial.actor_email) == (
        "permission.denied", "denied", actor.user_id, "curious@x.test")
    assert (denial.target_type, denial.details) == ("audit", {"action": "review_audit"})


def test_search_is_refused_for_a_user_without_a_staff_role(db, make_user, fake_clock):
    actor = _principal(db, make_user("clinic-admin@x.test"))
    with pytest.raises(PermissionDenied):
        audit_review.search(db, actor, where=AuditFilter())
    [denial] = _all_events(db)
    assert denial.action == "permission.denied" and denial.actor_email == "clinic-admin@x.test"


@pytest.mark.parametrize("role", ["privacy_officer", "system_admin"])
def test_search_is_allowed_for_privacy_officer_and_system_admin(db, make_user, fake_clock, role):
    actor = _principal(db, make_user("reviewer@x.test", staff=(role,)))
    _record(db, [("sign_in", "someone@x.test", START), ("user.locked", "someone@x.test", START)])
    page = audit_review.search(db, actor, where=AuditFilter())
    assert [e.action for e in page.events] == ["user.locked", "sign_in"]
    assert page.next_cursor is None
    assert all(e.action != "permission.denied" for e in _all_events(db))


# --- filters -------------------------------------------------------------------------------

@pytest.fixture
def reviewer(db, make_user):
    return _principal(db, make_user("privacy@x.test", staff=("privacy_officer",)))


def _ids(page):
    return [e.id for e in page.events]


def _expected(db, keep):
    events = [e for e in _all_events(db) if keep(e)]
    return [e.id for e in sorted(events, key=lambda e: (e.occurred_at, e.id), reverse=True)]


def test_filter_by_actor_email_ignores_case_and_spaces_and_matches_exactly(db, reviewer, fake_clock):
    _record(db, [("sign_in", "alice@x.test", START), ("sign_in", "bob@x.test", START),
                 ("user.locked", "alice@x.test", START + timedelta(minutes=1)),
                 ("sign_in", "alice@x.test.evil", START), ("sign_in", "malice@x.test", START)])
    page = audit_review.search(db, reviewer, where=AuditFilter(actor="  ALICE@X.Test "))
    assert _ids(page) == _expected(db, lambda e: e.actor_email == "alice@x.test")
    assert len(page.events) == 2
    assert audit_review.search(db, reviewer, where=AuditFilter(actor="nobody@x.test")).events == []


def test_filter_by_action(db, reviewer, fake_clock):
    _record(db, [("sign_in", "a@x.test", START), ("user.locked", "a@x.test", START),
                 ("user.unlocked", "a@x.test", START), ("user.locked", "b@x.test", START)])
    page = audit_review.search(db, reviewer, where=AuditFilter(action="user.locked"))
    assert _ids(page) == _expected(db, lambda e: e.action == "user.locked")
    assert len(page.events) == 2


def test_filter_by_time_window_includes_since_and_excludes_until(db, reviewer, fake_clock):
    times = [START + timedelta(minutes=m) for m in range(10)]
    _record(db, [("sign_in", "a@x.test", at) for at in times])
    since, until = times[3], times[7]
    page = audit_review.search(db, reviewer, where=AuditFilter(since=since, until=until))
    assert [e.occurred_at for e in page.events] == [times[6], times[5], times[4], times[3]]
    only_since = audit_review.search(db, reviewer, where=AuditFilter(since=times[8]))
    assert [e.occurred_at for e in only_since.events] == [times[9], times[8]]
    only_until = audit_review.search(db, reviewer, where=AuditFilter(until=times[1]))
    assert [e.occurred_at for e in only_until.events] == [times[0]]


def test_filters_combine(db, reviewer, fake_clock):
    _record(db, [("sign_in", "a@x.test", START + timedelta(minutes=m)) for m in range(5)]
            + [("user.locked", "a@x.test", START + timedelta(minutes=m)) for m in range(5)]
            + [("sign_in", "b@x.test", START + timedelta(minutes=m)) for m in range(5)])
    where = AuditFilter(actor="A@x.test", action="sign_in", since=START + timedelta(minutes=1),
                        until=START + timedelta(minutes=4))
    page = audit_review.search(db, reviewer, where=where)
    assert _ids(page) == _expected(db, lambda e: e.actor_email == "a@x.test" and e.action == "sign_in"
                                   and START + timedelta(minutes=1) <= e.occurred_at < START + timedelta(minutes=4))
    assert len(page.events) == 3


# --- keyset pagination ---------------------------------------------------------------------

def _all_pages(db, principal, where):
    pages, cursor = [], None
    while True:
        page = audit_review.search(db, principal, where=where, before=cursor)
        pages.append(_ids(page))
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 10, "pagination does not end"


@pytest.fixture
def many_events(db):
    """120 events, eight per timestamp, inserted in shuffled order so ids do not follow time."""
    rows = [("sign_in", f"user{i % 3}@x.test", START + timedelta(minutes=i // 8)) for i in range(120)]
    random.Random(20261102).shuffle(rows)
    _record(db, rows)
    return rows


def test_pages_of_50_return_every_event_once_newest_first(db, reviewer, fake_clock, many_events):
    pages = _all_pages(db, reviewer, AuditFilter(action="sign_in"))
    assert [len(p) for p in pages] == [50, 50, 20]
    flat = [event_id for page in pages for event_id in page]
    assert flat == _expected(db, lambda e: e.action == "sign_in")
    assert len(set(flat)) == 120
    # Page boundaries fall inside groups of identical timestamps, where a naive cursor would skip or repeat.
    by_id = {e.id: e.occurred_at for e in _all_events(db)}
    assert by_id[pages[0][-1]] == by_id[pages[1][0]]
    assert by_id[pages[1][-1]] == by_id[pages[2][0]]


def test_pagination_respects_an_until_bound(db, reviewer, fake_clock, many_events):
    until = START + timedelta(minutes=10)  # events of minutes 0..9: 80 of them
    pages = _all_pages(db, reviewer, AuditFilter(until=until))
    assert [len(p) for p in pages] == [50, 30]
    flat = [event_id for page in pages for event_id in page]
    assert flat == _expected(db, lambda e: e.occurred_at < until)
    assert len(set(flat)) == 80


def test_pagination_respects_since_and_until_together(db, reviewer, fake_clock, many_events):
    since, until = START + timedelta(minutes=1), START + timedelta(minutes=14)  # minutes 1..13
    pages = _all_pages(db, reviewer, AuditFilter(since=since, until=until))
    assert [len(p) for p in pages] == [50, 50, 4]
    flat = [event_id for page in pages for event_id in page]
    assert flat == _expected(db, lambda e: since <= e.occurred_at < until)


def test_pagination_with_an_actor_filter(db, reviewer, fake_clock, many_events):
    where = AuditFilter(actor="USER1@x.test", until=START + timedelta(minutes=14))
    flat = [event_id for page in _all_pages(db, reviewer, where) for event_id in page]
    expected = _expected(db, lambda e: e.actor_email == "user1@x.test"
                         and e.occurred_at < START + timedelta(minutes=14))
    assert flat == expected and len(expected) == 37


def test_an_empty_search_has_no_next_page(db, reviewer, fake_clock):
    page = audit_review.search(db, reviewer, where=AuditFilter(action="user.locked"))
    assert (page.events, page.next_cursor) == ([], None)
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
