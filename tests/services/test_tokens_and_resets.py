"""Emailed links (invitations, password resets) seen from the token table, the outbox and the
audit trail: lifetimes to the second with a fake clock, single use, supersession, hashing,
forgot password for unknown addresses, throttling, unlocking, and racing redemptions."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from db.models import AuditEvent, LoginSession, OutboxMessage, Token, User
from services import clock
from services.errors import InvalidInput, SessionEnded, SignInFailed
from services.identity import auth, invitations, password_reset, sessions, terms, tokens
from services.identity.tokens import InvalidToken
from tests.conftest import PASSWORD

NEW_PASSWORD = "Harbor-Lights-2026"
PORTAL = "https://results.example.org"


# --- helpers -------------------------------------------------------------------------------


def _invited(db, email: str = "nia.hire@acme.example", name: str = "Nia Hire") -> int:
    """An invited user (no password yet) with one invitation email queued."""
    with db.transaction() as session:
        user = User(email=email, name=name, status="invited", password_hash=None,
                    created_at=clock.now())
        session.add(user)
        session.flush()
        invitations.send_invitation(session, user=user, inviter_name="Ada Admin",
                                    organisation="Acme Freight", now=clock.now())
        return user.id


def _resend(db, user_id: int) -> None:
    with db.transaction() as session:
        invitations.send_invitation(session, user=session.get(User, user_id),
                                    inviter_name="Ada Admin", organisation="Acme Freight",
                                    now=clock.now())


def _outbox(db, kind: str | None = None) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.scalars(query))


def _token_from(message: OutboxMessage) -> str:
    return re.search(r"token=([A-Za-z0-9_-]+)", message.body).group(1)


def _latest_token(db, kind: str) -> str:
    return _token_from(_outbox(db, kind)[-1])


def _events(db, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


def _user(db, user_id: int) -> User:
    with db.transaction(write=False) as session:
        return session.get(User, user_id)


def _sessions_of(db, user_id: int) -> list[LoginSession]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)
                                    .order_by(LoginSession.id)))


def _race(count: int, attempt) -> list[object]:
    """Run `attempt` in `count` threads released together; each result is a value or the exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = attempt()
        except Exception as error:  # noqa: BLE001 - collected and asserted on by the caller
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a racing call hung"
    return results


# --- invitations -----------------------------------------------------------------------------


def test_an_invitation_works_at_47_59_and_fails_at_48_00_01(db, fake_clock):
    _invited(db)
    token = _latest_token(db, "invitation")
    issued = clock.now()

    fake_clock.current = issued + timedelta(hours=47, minutes=59)
    view = invitations.invitation_for(db, token)
    assert (view.email, view.name) == ("nia.hire@acme.example", "Nia Hire")

    fake_clock.current = issued + timedelta(hours=48, seconds=1)
    with pytest.raises(InvalidToken) as on_page:
        invitations.invitation_for(db, token)
    with pytest.raises(InvalidToken) as on_accept:
        invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)
    for raised in (on_page.value, on_accept.value):
        assert raised.expired is True
        assert str(raised) == invitations.EXPIRED
        assert "Ask your administrator" in str(raised)
    with db.transaction(write=False) as session:
        assert session.scalar(select(Token.used_at)) is None  # refused, not consumed


def test_accepting_at_47_59_makes_the_invited_user_active_without_signing_them_in(db, fake_clock):
    user_id = _invited(db)
    token = _latest_token(db, "invitation")
    fake_clock.advance(hours=47, minutes=59)

    invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)

    user = _user(db, user_id)
    assert user.status == "active"
    assert user.terms_version == terms.current_version(db)
    assert user.terms_accepted_at == clock.now()
    assert user.password_hash and NEW_PASSWORD not in user.password_hash
    assert _sessions_of(db, user_id) == []  # accepting signs nobody in
    accepted = _events(db, "user.invitation_accepted")
    assert [(e.target_id, e.actor_user_id) for e in accepted] == [(str(user_id), user_id)]
    assert auth.sign_in(db, email="nia.hire@acme.example", password=NEW_PASSWORD).principal


def test_a_used_invitation_fails_with_the_generic_message(db, fake_clock):
    _invited(db)
    token = _latest_token(db, "invitation")
    invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)

    with pytest.raises(InvalidToken) as again:
        invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)
    assert again.value.expired is False and str(again.value) == invitations.NOT_VALID
    # Used stays "used" once its time is up too: only an unused link reads as expired.
    fake_clock.advance(hours=49)
    with pytest.raises(InvalidToken) as later:
        invitations.invitation_for(db, token)
    assert later.value.expired is False and str(later.value) == invitations.NOT_VALID


def test_a_resent_invitation_supersedes_the_earlier_link(db, fake_clock):
    user_id = _invited(db)
    first = _latest_token(db, "invitation")
    fake_clock.advance(minutes=5)
    _resend(db, user_id)
    second = _latest_token(db, "invitation")
    assert second != first and len(_outbox(db, "invitation")) == 2

    with pytest.raises(InvalidToken) as superseded:
        invitations.invitation_for(db, first)
    assert superseded.value.expired is False and str(superseded.value) == invitations.NOT_VALID
    invitations.accept(db, raw_token=second, password=NEW_PASSWORD, accept_terms=True)
    assert _user(db, user_id).status == "active"


def test_unknown_and_wrong_purpose_links_read_like_used_ones(db, fake_clock, make_user):
    for raw in ("", "made-up-token", "x" * 43):
        with pytest.raises(InvalidToken) as unknown:
            invitations.invitation_for(db, raw)
        assert unknown.value.expired is False and str(unknown.value) == invitations.NOT_VALID
    make_user("someone@example.test")
    password_reset.request_reset(db, email="someone@example.test")
    reset_token = _latest_token(db, "password_reset")
    with pytest.raises(InvalidToken):  # a reset link does not open the invitation page
        invitations.invitation_for(db, reset_token)


def test_accepting_needs_the_terms_and_a_compliant_password_and_consumes_nothing_until_then(
        db, fake_clock):
    user_id = _invited(db)
    token = _latest_token(db, "invitation")

    with pytest.raises(InvalidInput, match="terms of use"):
        invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=False)
    for weak in ("short", "alllowercase-but-long-1", "Nia-Hire-Password-1", "Password123!"):
        with pytest.raises(InvalidInput):
            invitations.accept(db, raw_token=token, password=weak, accept_terms=True)

    user = _user(db, user_id)
    assert (user.status, user.password_hash, user.terms_accepted_at) == ("invited", None, None)
    assert _events(db, "user.invitation_accepted") == []
    invitations.accept(db, raw_token=token, password=NEW_PASSWORD, accept_terms=True)


def test_the_invitation_email_names_inviter_organisation_lifetime_and_the_configured_portal(
        db, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_PORTAL_URL", PORTAL + "/")
    _invited(db)
    [message] = _outbox(db, "invitation")
    token = _token_from(message)
    assert message.to_address == "nia.hire@acme.example"
    assert f"{PORTAL}/accept-invitation?token={token}" in message.body
    assert "Ada Admin" in message.body and "Acme Freight" in message.body
    assert "48 hours" in message.body
    assert message.body.count(token) == 1 and token not in message.subject


# --- tokens ----------------------------------------------------------------------------------


def test_tokens_are_random_256_bit_and_stored_only_as_their_sha256(db, fake_clock, make_user):
    user_id = make_user("hash@example.test")
    with db.transaction() as session:
        raws = [tokens.issue(session, user_id=user_id, purpose=purpose, now=clock.now())
                for purpose in ("invitation", "password_reset")]
    with db.transaction(write=False) as session:
        stored = session.scalars(select(Token.token_hash).order_by(Token.id)).all()
        expiries = session.scalars(select(Token.expires_at).order_by(Token.id)).all()
    assert all(len(raw) >= 43 for raw in raws)  # token_urlsafe(32): 256 bits
    assert stored == [hashlib.sha256(raw.encode()).hexdigest() for raw in raws]
    assert not any(raw in value for raw in raws for value in stored)
    assert expiries == [clock.now() + timedelta(hours=48), clock.now() + timedelta(hours=1)]


def test_peek_consumes_nothing_and_redeem_works_once(db, fake_clock, make_user):
    user_id = make_user("peek@example.test")
    with db.transaction() as session:
        raw = tokens.issue(session, user_id=user_id, purpose="password_reset", now=clock.now())
    for _ in range(2):
        with db.transaction(write=False) as session:
            assert tokens.peek(session, raw, purpose="password_reset", now=clock.now()).id == user_id
    with db.transaction() as session:
        assert tokens.redeem(session, raw, purpose="password_reset", now=clock.now()).id == user_id
    with db.transaction() as session, pytest.raises(InvalidToken) as used:
        tokens.redeem(session, raw, purpose="password_reset", now=clock.now())
    assert used.value.expired is False


def test_the_conditional_update_alone_stops_a_second_redemption(db, fake_clock, make_user,
                                                               monkeypatch):
    """Even when the check before it saw an unused token (a racing tab), the UPDATE refuses."""
    user_id = make_user("twice@example.test")
    with db.transaction() as session:
        raw = tokens.issue(session, user_id=user_id, purpose="password_reset", now=clock.now())
    with db.transaction() as session:
        tokens.redeem(session, raw, purpose="password_reset", now=clock.now())
    with db.transaction(write=False) as session:
        user = session.get(User, user_id)
    monkeypatch.setattr(tokens, "peek", lambda *args, **kwargs: user)  # a stale "still unused"
    with db.transaction() as session, pytest.raises(InvalidToken):
        tokens.redeem(session, raw, purpose="password_reset", now=clock.now())


def test_kill_all_without_a_purpose_ends_every_kind(db, fake_clock, make_user):
    user_id = make_user("kill@example.test")
    other_id = make_user("other@example.test")
    with db.transaction() as session:
        mine = [tokens.issue(session, user_id=user_id, purpose=p, now=clock.now())
                for p in ("invitation", "password_reset")]
        theirs = tokens.issue(session, user_id=other_id, purpose="password_reset", now=clock.now())
        tokens.kill_all(session, user_id=user_id, now=clock.now())
    with db.transaction(write=False) as session:
        for raw, purpose in zip(mine, ("invitation", "password_reset")):
            with pytest.raises(InvalidToken):
                tokens.peek(session, raw, purpose=purpose, now=clock.now())
        assert tokens.peek(session, theirs, purpose="password_reset", now=clock.now()).id == other_id


# --- forgot password -------------------------------------------------------------------------


def test_forgot_password_for_an_unknown_email_sends_nothing_records_nothing_and_answers_the_same(
        db, fake_clock, make_user):
    make_user("known@example.test")
    typed = "Correct-Horse-Battery-9!"  # a password typed into the email field
    with db.transaction(write=False) as session:
        events_before = session.scalar(select(func.count()).select_from(AuditEvent))

    unknown = password_reset.request_reset(db, email=typed)
    also_unknown = password_reset.request_reset(db, email="nobody@example.test")
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Token)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before

    known = password_reset.request_reset(db, email="  Known@Example.TEST ")
    assert unknown == also_unknown == known == password_reset.SENT
    assert [m.to_address for m in _outbox(db)] == ["known@example.test"]
    with db.transaction(write=False) as session:
        audited = [str(row) for row in session.execute(select(AuditEvent.actor_email,
                                                              AuditEvent.target_id,
                                                              AuditEvent.details)).all()]
    assert not any(typed in row or "nobody@" in row for row in audited)


def test_forgot_password_sends_nothing_to_invited_or_deactivated_accounts(db, fake_clock,
                                                                         make_user):
    make_user("gone@example.test", status="deactivated")
    _invited(db, email="pending@example.test")
    for address in ("gone@example.test", "pending@example.test"):
        assert password_reset.request_reset(db, email=address) == password_reset.SENT
    assert _outbox(db, "password_reset") == []
    assert _events(db, "password.reset_requested") == []


def test_the_reset_email_uses_the_configured_portal_and_carries_the_token_only_in_the_link(
        db, fake_clock, make_user, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_PORTAL_URL", PORTAL)
    user_id = make_user("mail@example.test")
    password_reset.request_reset(db, email="mail@example.test")
    [message] = _outbox(db, "password_reset")
    token = _token_from(message)
    link = f"{PORTAL}/reset-password?token={token}"
    assert link in message.body
    assert message.body.count(token) == 1 and token not in message.subject
    assert "1 hour" in message.body or "60 minutes" in message.body
    assert "did not ask" in message.body and "ignore" in message.body
    assert "localhost" not in message.body
    [requested] = _events(db, "password.reset_requested")
    assert requested.target_id == str(user_id) and token not in str(requested.details)


def test_reset_emails_are_limited_to_three_an_hour(db, fake_clock, make_user):
    user_id = make_user("eager@example.test")
    answers = set()
    for _ in range(5):
        answers.add(password_reset.request_reset(db, email="eager@example.test"))
        fake_clock.advance(minutes=5)
    assert answers == {password_reset.SENT}
    assert len(_outbox(db, "password_reset")) == password_reset.RESETS_PER_HOUR == 3
    assert len(_events(db, "password.reset_requested")) == 3
    throttled = _events(db, "password.reset_throttled")
    assert [e.target_id for e in throttled] == [str(user_id)] * 2

    fake_clock.advance(minutes=40)  # the first request is now more than an hour old
    password_reset.request_reset(db, email="eager@example.test")
    assert len(_outbox(db, "password_reset")) == 4


def test_racing_reset_requests_still_send_at_most_three(db, fake_clock, make_user):
    make_user("racer@example.test")
    results = _race(6, lambda: password_reset.request_reset(db, email="racer@example.test"))
    assert results == [password_reset.SENT] * 6
    assert len(_outbox(db, "password_reset")) == 3
    assert len(_events(db, "password.reset_throttled")) == 3


# --- resetting and changing the password -----------------------------------------------------


def test_a_reset_unlocks_ends_every_session_and_signs_nobody_in(db, fake_clock, make_user):
    user_id = make_user("locked@example.test")
    for _ in range(2):
        auth.sign_in(db, email="locked@example.test", password=PASSWORD)
    for _ in range(3):
        with pytest.raises(SignInFailed):
            auth.sign_in(db, email="locked@example.test", password="Wrong-Password-9")
    assert _user(db, user_id).status == "locked"
    [notice] = _outbox(db, "account_locked")
    assert "30 minutes" in notice.body and "support" in notice.body

    password_reset.request_reset(db, email="locked@example.test")  # locked accounts may reset
    token = _latest_token(db, "password_reset")
    fake_clock.advance(minutes=59)
    password_reset.reset_password(db, raw_token=token, password=NEW_PASSWORD)

    user = _user(db, user_id)
    assert (user.status, user.failed_attempts, user.locked_until) == ("active", 0, None)
    rows = _sessions_of(db, user_id)
    assert len(rows) == 2  # the two from before; the reset opened none
    assert all(row.ended_at == clock.now() and row.end_reason == "password_reset" for row in rows)
    [changed] = _outbox(db, "account_changed")
    assert "password" in changed.body and "contact support" in changed.body
    [reset] = _events(db, "password.reset")
    assert reset.target_id == str(user_id) and reset.details == {"sessions_ended": 2}
    with pytest.raises(SignInFailed):
        auth.sign_in(db, email="locked@example.test", password=PASSWORD)
    assert auth.sign_in(db, email="locked@example.test", password=NEW_PASSWORD).principal


def test_a_reset_link_works_once_and_not_after_an_hour(db, fake_clock, make_user):
    make_user("once@example.test")
    password_reset.request_reset(db, email="once@example.test")
    token = _latest_token(db, "password_reset")
    password_reset.reset_password(db, raw_token=token, password=NEW_PASSWORD)
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=token, password="Another-Secret-77")

    password_reset.request_reset(db, email="once@example.test")
    late = _latest_token(db, "password_reset")
    fake_clock.advance(hours=1, seconds=1)
    with pytest.raises(InvalidToken) as expired:
        password_reset.reset_password(db, raw_token=late, password="Another-Secret-77")
    assert expired.value.expired is True


def test_a_weak_new_password_does_not_use_up_the_reset_link(db, fake_clock, make_user):
    make_user("weak@example.test", name="Wendy Weak")
    password_reset.request_reset(db, email="weak@example.test")
    token = _latest_token(db, "password_reset")
    for weak in ("short", "Wendy-Weak-2026!"):
        with pytest.raises(InvalidInput):
            password_reset.reset_password(db, raw_token=token, password=weak)
    password_reset.reset_password(db, raw_token=token, password=NEW_PASSWORD)


def test_changing_the_password_kills_reset_links_and_ends_only_the_other_sessions(
        db, fake_clock, make_user):
    user_id = make_user("changer@example.test")
    here = auth.sign_in(db, email="changer@example.test", password=PASSWORD).token
    elsewhere = auth.sign_in(db, email="changer@example.test", password=PASSWORD).token
    password_reset.request_reset(db, email="changer@example.test")
    token = _latest_token(db, "password_reset")

    principal = sessions.resume(db, here)
    with pytest.raises(InvalidInput, match="current password is not correct"):
        password_reset.change_password(db, principal, current="Not-The-Password-1", new=NEW_PASSWORD)
    password_reset.change_password(db, principal, current=PASSWORD, new=NEW_PASSWORD)

    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=token, password="Another-Secret-77")
    assert sessions.resume(db, here).user_id == user_id
    with pytest.raises(SessionEnded):
        sessions.resume(db, elsewhere)
    [changed] = _events(db, "password.changed")
    assert changed.target_id == str(user_id) and changed.details == {"other_sessions_ended": 1}
    assert "password was changed" in _outbox(db, "account_changed")[-1].body


def test_a_reset_link_fails_after_a_reset_with_a_newer_link(db, fake_clock, make_user):
    user_id = make_user("twolinks@example.test")
    with db.transaction() as session:  # two links alive at once (issued in one transaction)
        older = tokens.issue(session, user_id=user_id, purpose="password_reset", now=clock.now())
        newer = tokens.issue(session, user_id=user_id, purpose="password_reset", now=clock.now())
        session.execute(update(Token).values(used_at=None))  # undo the supersession
    password_reset.reset_password(db, raw_token=newer, password=NEW_PASSWORD)
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=older, password="Another-Secret-77")


def test_racing_redemptions_of_one_link_let_exactly_one_win(db, fake_clock, make_user):
    _invited(db)
    token = _latest_token(db, "invitation")
    results = _race(4, lambda: invitations.accept(db, raw_token=token, password=NEW_PASSWORD,
                                                   accept_terms=True))
    assert results.count(None) == 1
    assert all(isinstance(r, InvalidToken) for r in results if r is not None), results
    assert len(_events(db, "user.invitation_accepted")) == 1


def test_no_audit_event_or_outbox_row_names_a_token(db, fake_clock, make_user):
    make_user("quiet@example.test")
    _invited(db)
    invite = _latest_token(db, "invitation")
    password_reset.request_reset(db, email="quiet@example.test")
    reset = _latest_token(db, "password_reset")
    invitations.accept(db, raw_token=invite, password=NEW_PASSWORD, accept_terms=True)
    password_reset.reset_password(db, raw_token=reset, password=NEW_PASSWORD)
    with db.transaction(write=False) as session:
        events = [str(row) for row in session.execute(select(AuditEvent.action,
                                                             AuditEvent.details)).all()]
    for action in ("user.invitation_accepted", "password.reset_requested", "password.reset"):
        assert len(_events(db, action)) == 1
    assert not any(raw in row for raw in (invite, reset) for row in events)
    assert not any(NEW_PASSWORD in row for row in events)
