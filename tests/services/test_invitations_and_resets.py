"""Links sent to people invited before invitations waited for acceptance, and reset links, with
a fake clock; forgot-password; changing one's password. (Today's invitations:
test_role_invitations.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Account, AuditEvent, LoginSession, OutboxMessage, Token, User
from services import clock, principals
from services.errors import InvalidInput, SignInFailed
from services.identity import auth, invitations, memberships, password_reset
from services.identity.tokens import InvalidToken
from tests.conftest import PASSWORD

NEW_PASSWORD = "Harbor-Lights-2026"


@pytest.fixture
def acme(db):
    with db.transaction() as session:
        account = Account(name="Acme Freight", kind="employer", created_at=clock.now())
        session.add(account)
        session.flush()
        return account.id


def _principal(db, user_id):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _links(db, kind: str) -> list[str]:
    with db.transaction(write=False) as session:
        bodies = session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == kind)
                                 .order_by(OutboxMessage.id)).all()
    return [re.search(r"token=([\w-]+)", body).group(1) for body in bodies]


def _invite(db, make_user, acme) -> tuple[int, str]:
    """A person invited before invitations waited for acceptance: an account with status
    "invited", its role attached, and a link to set the password."""
    make_user("admin@acme.example", accounts=((acme, "account_admin"),))
    user_id = make_user("new.hire@acme.example", name="Nia Hire", status="invited",
                        accounts=((acme, "account_user"),))
    with db.transaction() as session:
        user = session.get(User, user_id)
        user.password_hash = None
        invitations.send_invitation(session, user=user, inviter_name="Ada Admin",
                                    organisation="Acme Freight", now=clock.now())
    return user_id, _links(db, "invitation")[-1]


def test_an_invitation_works_at_47_59_and_not_at_48_00_01(db, make_user, acme, fake_clock):
    user_id, token = _invite(db, make_user, acme)
    issued = clock.now()
    fake_clock.current = issued + timedelta(hours=47, minutes=59)
    assert invitations.invitation_for(db, token).email == "new.hire@acme.example"
    fake_clock.current = issued + timedelta(hours=48, seconds=1)
    with pytest.raises(InvalidToken) as expired:
        invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)
    assert expired.value.expired and "Ask your administrator" in str(expired.value)
    fake_clock.current = issued + timedelta(hours=47, minutes=59)
    invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)
    with db.transaction(write=False) as session:
        user = session.get(User, user_id)
        assert user.status == "active" and user.terms_version and user.terms_accepted_at
        assert session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)).all() == []
    assert auth.sign_in(db, email="new.hire@acme.example", password=NEW_PASSWORD).principal


def test_a_used_or_superseded_invitation_fails(db, make_user, acme, fake_clock):
    user_id, first = _invite(db, make_user, acme)
    admin = _principal(db, make_user("support@example.test", staff=("support_rep",)))
    memberships.resend_invitation(db, admin, user_id=user_id)
    second = _links(db, "invitation")[-1]
    assert second != first
    with pytest.raises(InvalidToken) as superseded:
        invitations.accept(db, raw_token=first, password=NEW_PASSWORD, accept_terms=True)
    assert not superseded.value.expired
    invitations.accept(db, raw_token=second, password=NEW_PASSWORD, accept_terms=True)
    with pytest.raises(InvalidToken):
        invitations.accept(db, raw_token=second, password=NEW_PASSWORD, accept_terms=True)


def test_accepting_needs_the_terms_and_a_good_password(db, make_user, acme, fake_clock):
    user_id, token = _invite(db, make_user, acme)
    with pytest.raises(InvalidInput, match="terms of use"):
        invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=False)
    with pytest.raises(InvalidInput):
        invitations.accept(db, raw_token=token, password="short", accept_terms=True)
    with db.transaction(write=False) as session:
        assert session.get(User, user_id).status == "invited"  # nothing changed, link still good
    invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)


def test_tokens_are_stored_only_as_hashes(db, make_user, acme, fake_clock):
    _, token = _invite(db, make_user, acme)
    with db.transaction(write=False) as session:
        stored = session.scalars(select(Token.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_forgot_password_for_an_unknown_email_answers_the_same_and_sends_nothing(db, make_user,
                                                                                   fake_clock):
    make_user("known@example.test")
    unknown = password_reset.request_reset(db, email="nobody@example.test")
    known = password_reset.request_reset(db, email="Known@Example.test")
    assert unknown == known == password_reset.SENT
    with db.transaction(write=False) as session:
        sent = session.scalars(select(OutboxMessage.to_address)).all()
        noted = session.scalars(select(AuditEvent.target_id).where(
            AuditEvent.action == "password.reset_requested")).all()
    assert sent == ["known@example.test"] and len(noted) == 1


def test_a_reset_unlocks_ends_sessions_and_signs_nobody_in(db, make_user, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_PORTAL_URL", "https://results.example.org")
    user_id = make_user("locked@example.test")
    auth.sign_in(db, email="locked@example.test", password=PASSWORD)
    for _ in range(3):
        with pytest.raises(SignInFailed):
            auth.sign_in(db, email="locked@example.test", password="Wrong-Password-9")
    password_reset.request_reset(db, email="locked@example.test")
    with db.transaction(write=False) as session:
        body = session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "password_reset"))
    assert "https://results.example.org/reset-password?token=" in body
    token = _links(db, "password_reset")[-1]
    password_reset.reset_password(db, raw_token=token, password=NEW_PASSWORD)
    with db.transaction(write=False) as session:
        user = session.get(User, user_id)
        open_sessions = session.scalars(select(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))).all()
        all_sessions = session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)).all()
    assert (user.status, user.failed_attempts, user.locked_until) == ("active", 0, None)
    assert open_sessions == [] and len(all_sessions) == 1  # no new session from the reset
    assert auth.sign_in(db, email="locked@example.test", password=NEW_PASSWORD).principal
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=token, password="Another-Secret-77")


def test_a_reset_link_fails_after_a_password_change(db, make_user, fake_clock):
    make_user("changer@example.test")
    password_reset.request_reset(db, email="changer@example.test")
    token = _links(db, "password_reset")[-1]
    signed_in = auth.sign_in(db, email="changer@example.test", password=PASSWORD)
    password_reset.change_password(db, signed_in.principal, current=PASSWORD, new=NEW_PASSWORD)
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=token, password="Another-Secret-77")
    with pytest.raises(InvalidInput, match="current password"):
        password_reset.change_password(db, signed_in.principal, current="wrong", new="X-Secret-2026-y")


def test_a_reset_link_expires_after_an_hour_and_a_newer_one_supersedes(db, make_user, fake_clock):
    make_user("late@example.test")
    password_reset.request_reset(db, email="late@example.test")
    first = _links(db, "password_reset")[-1]
    password_reset.request_reset(db, email="late@example.test")
    second = _links(db, "password_reset")[-1]
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=first, password=NEW_PASSWORD)
    fake_clock.advance(hours=1, seconds=1)
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=second, password=NEW_PASSWORD)


def test_reset_emails_are_throttled(db, make_user, fake_clock):
    make_user("eager@example.test")
    for _ in range(5):
        password_reset.request_reset(db, email="eager@example.test")
    assert len(_links(db, "password_reset")) == password_reset.RESETS_PER_HOUR
