"""Server-side sessions: timeouts, sign-out, deactivation and role changes, seen from the browser token."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from db.models import AuditEvent, LoginSession, StaffRole
from services.errors import SessionEnded, SignInFailed
from services.identity import auth, sessions, users
from services.policy import Action, Role
from tests.conftest import PASSWORD


def _sign_in(db, email):
    return auth.sign_in(db, email=email, password=PASSWORD)


def _ended_reason(db, token):
    with pytest.raises(SessionEnded) as ended:
        sessions.resume(db, token)
    return ended.value.reason


def test_only_the_token_hash_is_stored(db, make_user, fake_clock):
    make_user("a@x.test")
    token = _sign_in(db, "a@x.test").token
    with db.transaction(write=False) as session:
        stored = session.scalars(select(LoginSession.token_hash)).one()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored


def test_idle_for_15_minutes_ends_the_session(db, make_user, fake_clock):
    make_user("a@x.test")
    token = _sign_in(db, "a@x.test").token
    fake_clock.advance(minutes=14, seconds=59)
    sessions.resume(db, token)
    fake_clock.advance(minutes=14, seconds=59)
    sessions.resume(db, token)  # activity keeps it alive
    fake_clock.advance(minutes=15)
    assert _ended_reason(db, token) == "idle"
    assert _ended_reason(db, token) == "ended"  # and it stays ended
    with db.transaction(write=False) as session:
        [expired] = session.scalars(select(AuditEvent).where(AuditEvent.action == "session.expired")).all()
    assert expired.details == {"reason": "idle"}


def test_eight_hours_end_even_an_active_session(db, make_user, fake_clock):
    make_user("a@x.test")
    token = _sign_in(db, "a@x.test").token
    for _ in range(8 * 6 - 1):
        fake_clock.advance(minutes=10)
        sessions.resume(db, token)
    fake_clock.advance(minutes=10)
    assert _ended_reason(db, token) == "absolute"


def test_timeouts_are_configurable(db, make_user, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_SESSION_IDLE_MINUTES", "5")
    make_user("a@x.test")
    token = _sign_in(db, "a@x.test").token
    fake_clock.advance(minutes=5)
    assert _ended_reason(db, token) == "idle"


def test_sign_out_kills_the_token_everywhere(db, make_user, fake_clock):
    make_user("a@x.test")
    first = _sign_in(db, "a@x.test").token
    second = _sign_in(db, "a@x.test").token
    sessions.end(db, first)
    assert _ended_reason(db, first) == "ended"
    assert sessions.resume(db, second).email == "a@x.test"  # the other tab stays signed in


def test_deactivation_ends_every_session_of_the_user(db, make_user, fake_clock):
    make_user("admin@x.test", staff=("system_admin",))
    worker_id = make_user("w@x.test")
    tokens = [_sign_in(db, "w@x.test").token for _ in range(2)]
    admin = _sign_in(db, "admin@x.test").principal
    users.deactivate(db, admin, user_id=worker_id)
    assert [_ended_reason(db, t) for t in tokens] == ["ended", "ended"]


def test_a_role_change_applies_at_the_next_interaction(db, make_user, fake_clock):
    user_id = make_user("rep@x.test", staff=("support_rep",))
    token = _sign_in(db, "rep@x.test").token
    assert sessions.resume(db, token).can(Action.MANAGE_USERS)
    with db.transaction() as session:
        session.query(StaffRole).filter_by(user_id=user_id).delete()
        session.add(StaffRole(user_id=user_id, role=Role.MANAGER))
    principal = sessions.resume(db, token)
    assert not principal.can(Action.MANAGE_USERS) and principal.can(Action.VIEW_DASHBOARDS)


def test_a_made_up_token_opens_nothing(db, make_user, fake_clock):
    make_user("a@x.test")
    _sign_in(db, "a@x.test")
    assert _ended_reason(db, "not-a-real-token") == "ended"


def test_wrong_guesses_by_someone_else_do_not_sign_the_user_out(db, make_user, fake_clock):
    make_user("a@x.test")
    token = _sign_in(db, "a@x.test").token
    for attempt in range(3):
        with pytest.raises(SignInFailed):
            auth.sign_in(db, email="a@x.test", password=f"guess-{attempt}")
    assert sessions.resume(db, token).email == "a@x.test"
