"""The one-time code a browser trades for its HttpOnly session cookie."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from db.models import AuditEvent, SessionHandoff
from services.errors import HandoffRefused, SessionEnded
from services.identity import auth, session_handoff, sessions
from tests.conftest import PASSWORD


def _sign_in(db, email):
    return auth.sign_in(db, email=email, password=PASSWORD)


def _refusals(db):
    with db.transaction(write=False) as session:
        return [e.details["reason"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "session.handoff_refused").order_by(AuditEvent.id))]


def test_a_code_opens_its_session_once_and_the_cookie_token_is_new(db, make_user, fake_clock):
    make_user("a@x.test")
    signed_in = _sign_in(db, "a@x.test")
    cookie = session_handoff.exchange(db, code=signed_in.handoff_code)
    assert cookie != signed_in.token and len(cookie) >= 43
    assert sessions.resume(db, cookie).session_id == signed_in.principal.session_id
    with pytest.raises(SessionEnded):
        sessions.resume(db, signed_in.token)  # the pre-hand-off token no longer opens it

    with pytest.raises(HandoffRefused):
        session_handoff.exchange(db, code=signed_in.handoff_code)
    assert _refusals(db) == ["replayed"]
    sessions.resume(db, cookie)  # a replay does not harm the session it belonged to


def test_a_code_expires_after_30_seconds(db, make_user, fake_clock):
    make_user("a@x.test")
    early, late = _sign_in(db, "a@x.test"), _sign_in(db, "a@x.test")
    fake_clock.advance(seconds=29)
    session_handoff.exchange(db, code=early.handoff_code)
    fake_clock.advance(seconds=1)
    with pytest.raises(HandoffRefused):
        session_handoff.exchange(db, code=late.handoff_code)
    assert _refusals(db) == ["expired"]


def test_only_the_code_hash_is_stored(db, make_user, fake_clock):
    make_user("a@x.test")
    code = _sign_in(db, "a@x.test").handoff_code
    with db.transaction(write=False) as session:
        stored = session.scalars(select(SessionHandoff.code_hash)).one()
    assert stored == hashlib.sha256(code.encode()).hexdigest() and code not in stored
    assert len(code) >= 43  # 256 random bits


def test_a_code_is_bound_to_its_own_session(db, make_user, fake_clock):
    make_user("a@x.test")
    make_user("b@x.test")
    a, b = _sign_in(db, "a@x.test"), _sign_in(db, "b@x.test")
    assert sessions.resume(db, session_handoff.exchange(db, code=b.handoff_code)).email == "b@x.test"
    assert sessions.resume(db, session_handoff.exchange(db, code=a.handoff_code)).email == "a@x.test"


def test_a_code_of_a_session_ended_before_the_hand_off_opens_nothing(db, make_user, fake_clock):
    make_user("a@x.test")
    signed_in = _sign_in(db, "a@x.test")
    sessions.end(db, signed_in.token)
    with pytest.raises(HandoffRefused):
        session_handoff.exchange(db, code=signed_in.handoff_code)
    with pytest.raises(HandoffRefused):
        session_handoff.exchange(db, code="made-up")
    assert _refusals(db) == ["session_ended", "unknown"]
