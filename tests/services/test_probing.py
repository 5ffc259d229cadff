"""A session refused 20 times within a minute is ended as probing; the account stays usable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import AuditEvent, User
from services.errors import PermissionDenied, SessionEnded
from services.identity import auth, sessions
from services.policy import Action
from services.transaction import transaction
from tests.conftest import PASSWORD


def _refuse(db, principal, times):
    """Ask for a staff-only action the way every service does, and be refused."""
    for _ in range(times):
        with pytest.raises(PermissionDenied):
            with transaction(db) as _session:
                principal.require(Action.REVIEW_AUDIT, target_type="screen", target_id="audit")


def _events(db, action):
    with db.transaction(write=False) as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_twentieth_refusal_in_a_minute_ends_the_session_once(db, make_user, fake_clock):
    make_user("probe@x.test", accounts=())
    signed_in = auth.sign_in(db, email="probe@x.test", password=PASSWORD)
    principal = sessions.resume(db, signed_in.token)
    _refuse(db, principal, 19)
    sessions.resume(db, signed_in.token)  # 19 is still someone clicking around
    fake_clock.advance(seconds=30)
    _refuse(db, principal, 1)
    with pytest.raises(SessionEnded) as ended:
        sessions.resume(db, signed_in.token)
    assert ended.value.reason == "probing"
    assert "Please sign in again" in str(ended.value)

    _refuse(db, principal, 25)  # a script that keeps going writes no second probing event
    [probing] = _events(db, "session.probing")
    assert (probing.actor_email, probing.target_id) == ("probe@x.test", str(principal.session_id))
    assert len(_events(db, "permission.denied")) == 45

    with db.transaction(write=False) as session:
        user = session.scalars(select(User).where(User.email == "probe@x.test")).one()
    assert (user.status, user.failed_attempts) == ("active", 0)  # not locked: they sign in again
    again = auth.sign_in(db, email="probe@x.test", password=PASSWORD)
    sessions.resume(db, again.token)


def test_refusals_spread_over_minutes_do_not_end_the_session(db, make_user, fake_clock):
    make_user("busy@x.test")
    signed_in = auth.sign_in(db, email="busy@x.test", password=PASSWORD)
    principal = sessions.resume(db, signed_in.token)
    for _ in range(3):
        _refuse(db, principal, 15)
        fake_clock.advance(seconds=61)
    sessions.resume(db, signed_in.token)
    assert _events(db, "session.probing") == []


def test_refusals_of_one_session_do_not_count_against_another(db, make_user, fake_clock):
    make_user("two@x.test")
    first = auth.sign_in(db, email="two@x.test", password=PASSWORD)
    second = auth.sign_in(db, email="two@x.test", password=PASSWORD)
    _refuse(db, sessions.resume(db, first.token), 20)
    with pytest.raises(SessionEnded):
        sessions.resume(db, first.token)
    sessions.resume(db, second.token)
