"""Sign-in as a user and an attacker see it: one message for every refusal, lockout, unlock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import AuditEvent, User
from services.errors import SignInFailed
from services.identity import auth, passwords, sessions, users
from tests.conftest import PASSWORD


def _events(db, action):
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _refusal(db, email, password):
    with pytest.raises(SignInFailed) as refused:
        auth.sign_in(db, email=email, password=password)
    return str(refused.value)


def test_right_password_signs_in_and_opens_a_session(db, make_user, fake_clock):
    make_user("nurse@clinic.test", name="Nia Nurse", staff=("support_rep",))
    signed_in = auth.sign_in(db, email="nurse@clinic.test", password=PASSWORD)
    assert signed_in.principal.email == "nurse@clinic.test"
    assert len(signed_in.token) >= 43  # 32 random bytes, base64url
    assert sessions.resume(db, signed_in.token).user_id == signed_in.principal.user_id
    [event] = _events(db, "sign_in")
    assert (event.outcome, event.actor_email) == ("success", "nurse@clinic.test")


def test_email_ignores_case_and_spaces_but_password_is_exact(db, make_user, fake_clock):
    make_user("nurse@clinic.test")
    assert auth.sign_in(db, email="  NURSE@Clinic.TEST ", password=PASSWORD).principal.email == "nurse@clinic.test"
    _refusal(db, "nurse@clinic.test", PASSWORD.lower())
    _refusal(db, "nurse@clinic.test", f" {PASSWORD} ")
    assert _user(db, "nurse@clinic.test").failed_attempts == 2


def _user(db, email) -> User:
    with db.transaction(write=False) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def test_every_refusal_reads_the_same(db, make_user, fake_clock):
    make_user("active@x.test")
    make_user("gone@x.test", status="deactivated")
    make_user("invited@x.test", status="invited")
    make_user("locked@x.test")
    for _ in range(3):
        _refusal(db, "locked@x.test", "wrong")
    messages = {
        _refusal(db, "nobody@x.test", PASSWORD),
        _refusal(db, "active@x.test", "wrong password"),
        _refusal(db, "gone@x.test", PASSWORD),
        _refusal(db, "invited@x.test", PASSWORD),
        _refusal(db, "locked@x.test", PASSWORD),
    }
    assert messages == {SignInFailed.MESSAGE}


def test_unknown_user_costs_the_same_bcrypt_check(db, make_user, fake_clock, monkeypatch):
    make_user("known@x.test")
    checks = []
    real_check = passwords.bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda pw, h: checks.append(h[:7]) or real_check(pw, h))
    _refusal(db, "unknown@x.test", "whatever")
    _refusal(db, "known@x.test", "whatever")
    # Both at the tests' cost; tests/security/test_password_hashes.py checks the decoy's cost 12.
    assert len(checks) == 2 and checks[0] == checks[1] == f"$2b${passwords.ROUNDS:02d}$".encode()


def test_three_failures_lock_then_the_right_password_is_refused_alike(db, make_user, fake_clock):
    make_user("worker@x.test")
    wrong = _refusal(db, "worker@x.test", "nope-1")
    _refusal(db, "worker@x.test", "nope-2")
    _refusal(db, "worker@x.test", "nope-3")
    assert _refusal(db, "worker@x.test", PASSWORD) == wrong
    locked = _user(db, "worker@x.test")
    assert locked.status == "locked" and locked.failed_attempts == 3
    assert [e.outcome for e in _events(db, "sign_in")] == ["failure"] * 4
    assert [e.details["reason"] for e in _events(db, "sign_in")][-1] == "locked"
    [lockout] = _events(db, "user.locked")
    assert lockout.target_id == str(locked.id)


def test_lock_ends_by_itself_after_the_lockout_period(db, make_user, fake_clock):
    make_user("worker@x.test")
    for attempt in range(3):
        _refusal(db, "worker@x.test", f"nope-{attempt}")
    fake_clock.advance(minutes=29, seconds=59)
    _refusal(db, "worker@x.test", PASSWORD)
    fake_clock.advance(seconds=1)
    assert auth.sign_in(db, email="worker@x.test", password=PASSWORD).principal.email == "worker@x.test"
    [unlocked] = _events(db, "user.unlocked")
    assert unlocked.details == {"by": "lock period ended"}
    assert _user(db, "worker@x.test").failed_attempts == 0


def test_lockout_period_is_configurable(db, make_user, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_LOCKOUT_MINUTES", "5")
    make_user("worker@x.test")
    for attempt in range(3):
        _refusal(db, "worker@x.test", f"nope-{attempt}")
    fake_clock.advance(minutes=5)
    auth.sign_in(db, email="worker@x.test", password=PASSWORD)


def test_success_resets_the_failure_count(db, make_user, fake_clock):
    make_user("worker@x.test")
    _refusal(db, "worker@x.test", "nope-1")
    _refusal(db, "worker@x.test", "nope-2")
    auth.sign_in(db, email="worker@x.test", password=PASSWORD)
    _refusal(db, "worker@x.test", "nope-3")
    _refusal(db, "worker@x.test", "nope-4")
    assert _user(db, "worker@x.test").status == "active"


def test_support_unlocks_a_locked_account(db, make_user, fake_clock):
    support_id = make_user("support@x.test", staff=("support_rep",))
    worker_id = make_user("worker@x.test", accounts=())
    for attempt in range(3):
        _refusal(db, "worker@x.test", f"nope-{attempt}")
    support = auth.sign_in(db, email="support@x.test", password=PASSWORD).principal
    assert [u.id for u in users.locked_users(db, support)] == [worker_id]
    users.unlock(db, support, user_id=worker_id)
    assert auth.sign_in(db, email="worker@x.test", password=PASSWORD).principal.user_id == worker_id
    [unlocked] = _events(db, "user.unlocked")
    assert (unlocked.actor_user_id, unlocked.details) == (support_id, {"by": "administrator", "old_status": "locked", "new_status": "active"})


def test_audit_of_failures_holds_no_password_or_typed_unknown_email(db, make_user, fake_clock):
    make_user("worker@x.test")
    _refusal(db, "worker@x.test", "Secret-Typo-1!")
    _refusal(db, "Secret-Typed-In-Email-Field", "x")
    with db.transaction(write=False) as session:
        dumped = repr([(e.actor_email, e.target_id, e.details) for e in session.scalars(select(AuditEvent))])
    assert "Secret-Typo-1!" not in dumped and "secret-typed" not in dumped.lower()
