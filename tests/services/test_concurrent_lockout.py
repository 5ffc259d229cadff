"""Sign-ins racing on one account: the lock still happens once, and racing successes all count.

SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL relies on the conditional UPDATEs
and row locks. The same test runs on both.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from db.models import AuditEvent, LoginSession, User
from services.errors import SignInFailed
from services.identity import auth
from tests.conftest import PASSWORD

THREADS = 8


def _race(attempt) -> list[object]:
    """Run `attempt` in THREADS threads released together; each result is a value or the exception."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = attempt()
        except Exception as error:  # collected and asserted on below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sign-in hung"
    return results


def _user(db, user_id) -> User:
    with db.transaction(write=False) as session:
        return session.get(User, user_id)


def _events(db, action, user_id) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                             AuditEvent.target_id == str(user_id))))


def test_simultaneous_wrong_passwords_lock_the_account_exactly_once(db, make_user):
    victim = make_user("victim@x.test")
    results = _race(lambda: auth.sign_in(db, email="victim@x.test", password="guess-123"))

    assert all(isinstance(result, SignInFailed) for result in results), results
    assert {str(result) for result in results} == {SignInFailed.MESSAGE}

    user = _user(db, victim)
    assert user.status == "locked" and user.locked_until is not None
    attempts = _events(db, "sign_in", victim)
    assert len(attempts) == THREADS and {e.outcome for e in attempts} == {"failure"}
    # A failure is counted only while the account was still active; the rest met the lock.
    counted = [e for e in attempts if e.details == {"reason": "bad_password"}]
    met_lock = [e for e in attempts if e.details == {"reason": "locked"}]
    assert len(counted) + len(met_lock) == THREADS
    assert user.failed_attempts == len(counted) == 3  # racing attempts never count past the limit
    assert len(_events(db, "user.locked", victim)) == 1

    # The lock holds against the right password too.
    with pytest.raises(SignInFailed):
        auth.sign_in(db, email="victim@x.test", password=PASSWORD)


def test_simultaneous_right_passwords_all_sign_in(db, make_user):
    worker = make_user("worker@x.test")
    with db.transaction() as session:
        session.get(User, worker).failed_attempts = 2  # one short of the lock
    results = _race(lambda: auth.sign_in(db, email="worker@x.test", password=PASSWORD))

    assert all(isinstance(result, auth.SignedIn) for result in results), results
    assert {result.principal.user_id for result in results} == {worker}
    assert len({result.token for result in results}) == THREADS
    user = _user(db, worker)
    assert (user.status, user.failed_attempts) == ("active", 0)
    with db.transaction(write=False) as session:
        open_sessions = session.scalars(select(LoginSession).where(LoginSession.user_id == worker,
                                                                   LoginSession.ended_at.is_(None))).all()
    assert len(open_sessions) == THREADS
    assert [e.outcome for e in _events(db, "sign_in", worker)] == ["success"] * THREADS
