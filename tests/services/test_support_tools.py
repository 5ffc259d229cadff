"""Support tools on SQLite and PostgreSQL: changing a person's email address (link to the new
address, notice to the old one, single use, 48 hours, refused when the address is taken at
request and at confirmation, two confirmations racing for one address, sessions ended),
switching new-result emails on their behalf, and sending the Forgot-password link."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import AuditEvent, LoginSession, OutboxMessage, Token, User
from services import clock
from services.errors import InvalidInput, PermissionDenied, SessionEnded, SignInFailed
from services.identity import auth, password_reset, sessions, support_tools
from services.identity.tokens import InvalidToken
from tests.conftest import PASSWORD, principal_of

PORTAL = "https://results.example.org"
NEW = "dana.new@acme.example"
NEW_PASSWORD = "Harbor-Lights-2026"


@pytest.fixture
def people(db, make_user, fake_clock, monkeypatch):
    """Support, a client user (Dana) with two open sessions, another client user, a clinic admin."""
    monkeypatch.setenv("RESULTSDESK_PORTAL_URL", PORTAL)
    make_user("support@x.test", name="Sam Support", staff=("support_rep",))
    make_user("priv@x.test", name="Pat Privacy", staff=("privacy_officer",))
    dana = make_user("dana@acme.example", name="Dana Client")
    make_user("other@acme.example", name="Olly Other")
    for _ in range(2):
        auth.sign_in(db, email="dana@acme.example", password=PASSWORD)
    return {"support": principal_of(db, "support@x.test"), "privacy": principal_of(db, "priv@x.test"),
            "dana": dana}


def _outbox(db, kind: str) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                    .order_by(OutboxMessage.id)))


def _link_token(message: OutboxMessage) -> str:
    return re.search(rf"{re.escape(PORTAL)}/confirm-email\?token=([\w-]+)", message.body).group(1)


def _events(db, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


def _user(db, user_id: int) -> User:
    with db.transaction(write=False) as session:
        return session.get(User, user_id)


def _open_sessions(db, user_id: int) -> int:
    with db.transaction(write=False) as session:
        return len(session.scalars(select(LoginSession.id).where(
            LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))).all())


def _request(db, people, address: str = NEW, *, user_id: int | None = None) -> str:
    support_tools.request_email_change(db, people["support"], user_id=user_id or people["dana"],
                                       new_email=address, repeated=address.upper())
    return _link_token(_outbox(db, "email_change")[-1])


def test_the_link_goes_to_the_new_address_and_a_notice_to_the_old_one(db, people):
    token = _request(db, people, "  Dana.New@Acme.example ")
    [link] = _outbox(db, "email_change")
    assert link.to_address == NEW and f"{PORTAL}/confirm-email?token={token}" in link.body
    assert "48 hours" in link.body and link.body.count(token) == 1
    [notice] = [m for m in _outbox(db, "account_changed") if m.to_address == "dana@acme.example"]
    assert "change the email address" in notice.body and NEW not in notice.body
    assert "HIPAA hotline" in link.body and "HIPAA hotline" in notice.body  # every email's footer
    with db.transaction(write=False) as session:
        stored = session.scalar(select(Token).where(Token.purpose == "email_change"))
    assert stored.new_email == NEW and token not in stored.token_hash  # kept only as a hash
    assert stored.expires_at - stored.created_at == timedelta(hours=48)
    # Nothing changes before the person confirms.
    assert _user(db, people["dana"]).email == "dana@acme.example"
    assert _open_sessions(db, people["dana"]) == 2
    [event] = _events(db, "user.email_change_requested")
    assert event.details == {"old_email": "dana@acme.example", "new_email": NEW}
    assert event.actor_email == "support@x.test"


def test_confirming_changes_the_address_ends_every_session_and_records_old_and_new(db, people):
    token = _request(db, people)
    reset_before = password_reset.request_reset(db, email="dana@acme.example")
    assert reset_before
    signed_in = auth.sign_in(db, email="dana@acme.example", password=PASSWORD)

    assert support_tools.pending_change(db, raw_token=token).new_email == NEW
    assert support_tools.confirm_email_change(db, raw_token=token) == NEW

    assert _user(db, people["dana"]).email == NEW
    assert _open_sessions(db, people["dana"]) == 0
    with pytest.raises(SessionEnded):
        sessions.resume(db, signed_in.token)
    with pytest.raises(SignInFailed):
        auth.sign_in(db, email="dana@acme.example", password=PASSWORD)
    assert auth.sign_in(db, email=NEW, password=PASSWORD).token
    [event] = _events(db, "user.email_changed")
    assert event.details == {"old_email": "dana@acme.example", "new_email": NEW, "sessions_ended": 3}
    # The old address is told, and a reset link sent to it before the change works no more.
    assert any(m.to_address == "dana@acme.example" and "no longer signs in" in m.body
               for m in _outbox(db, "account_changed"))
    reset_token = re.search(r"token=([\w-]+)", _outbox(db, "password_reset")[-1].body).group(1)
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, raw_token=reset_token, password=NEW_PASSWORD)


def test_the_link_works_once(db, people):
    token = _request(db, people)
    support_tools.confirm_email_change(db, raw_token=token)
    with pytest.raises(InvalidToken):
        support_tools.confirm_email_change(db, raw_token=token)
    with pytest.raises(InvalidToken):
        support_tools.pending_change(db, raw_token=token)
    assert len(_events(db, "user.email_changed")) == 1


def test_the_link_works_for_48_hours_and_a_newer_request_replaces_it(db, people, fake_clock):
    first = _request(db, people)
    second = _request(db, people, "dana.second@acme.example")
    with pytest.raises(InvalidToken):
        support_tools.confirm_email_change(db, raw_token=first)
    fake_clock.advance(hours=48)
    with pytest.raises(InvalidToken) as expired:
        support_tools.confirm_email_change(db, raw_token=second)
    assert expired.value.expired
    assert _user(db, people["dana"]).email == "dana@acme.example"
    assert _open_sessions(db, people["dana"]) == 2


def test_an_address_another_account_uses_is_refused_when_asked(db, people):
    with pytest.raises(InvalidInput, match="Another account already uses"):
        _request(db, people, "Other@Acme.example")
    with pytest.raises(InvalidInput, match="differ"):
        support_tools.request_email_change(db, people["support"], user_id=people["dana"],
                                           new_email=NEW, repeated="dana.nwe@acme.example")
    with pytest.raises(InvalidInput, match="valid email"):
        _request(db, people, "not an address")
    assert _outbox(db, "email_change") == [] and _events(db, "user.email_change_requested") == []


def test_an_address_taken_after_the_request_is_refused_at_confirmation(db, people, make_user):
    token = _request(db, people)
    make_user(NEW, name="Someone Quicker")
    with pytest.raises(InvalidInput, match="Another account uses that email address now"):
        support_tools.confirm_email_change(db, raw_token=token)
    assert _user(db, people["dana"]).email == "dana@acme.example"
    assert _open_sessions(db, people["dana"]) == 2
    assert _events(db, "user.email_changed") == []


def test_the_unique_constraint_refuses_what_the_check_missed_and_nothing_is_half_written(
        db, people, make_user, monkeypatch):
    token = _request(db, people)
    make_user(NEW, name="Someone Quicker")
    # As if the other account was written between the check and the update: only the
    # database's unique constraint stands in the way.
    monkeypatch.setattr(support_tools, "address_taken", lambda *args, **kwargs: False)
    with pytest.raises(InvalidInput, match="Another account uses that email address now"):
        support_tools.confirm_email_change(db, raw_token=token)
    assert _user(db, people["dana"]).email == "dana@acme.example"
    assert _open_sessions(db, people["dana"]) == 2
    assert _events(db, "user.email_changed") == []
    with db.transaction(write=False) as session:
        assert session.scalar(select(Token.used_at).where(Token.purpose == "email_change")) is None


def test_two_confirmations_racing_for_one_address_exactly_one_wins(db, people, make_user, monkeypatch):
    olly = principal_of(db, "other@acme.example").user_id
    dana_token = _request(db, people)
    olly_token = _request(db, people, user_id=olly)  # no account uses it yet: both asked
    # Both pass the check before either writes, so the database must decide.
    monkeypatch.setattr(support_tools, "address_taken", lambda *args, **kwargs: False)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def confirm(name: str, token: str) -> None:
        barrier.wait(timeout=30)
        try:
            results[name] = support_tools.confirm_email_change(db, raw_token=token)
        except Exception as error:  # noqa: BLE001 - asserted on below
            results[name] = error

    threads = [threading.Thread(target=confirm, args=pair)
               for pair in (("dana", dana_token), ("olly", olly_token))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(type(r).__name__ for r in results.values()) == ["InvalidInput", "str"]
    with db.transaction(write=False) as session:
        owners = session.scalars(select(User.id).where(User.email == NEW)).all()
    winner = "dana" if results["dana"] == NEW else "olly"
    assert owners == [people["dana"] if winner == "dana" else olly]
    assert len(_events(db, "user.email_changed")) == 1
    loser_id = olly if winner == "dana" else people["dana"]
    assert _user(db, loser_id).email != NEW


def test_only_support_and_system_admins_may_and_only_for_people_they_reach(db, people, make_user):
    admin = make_user("admin2@x.test", name="Ada Admin", staff=("system_admin",))
    with pytest.raises(PermissionDenied):
        _request(db, {**people, "support": people["privacy"]})
    # Support never acts on a staff account.
    with pytest.raises(PermissionDenied):
        _request(db, people, "a.new@x.test", user_id=admin)
    assert [e.details["action"] for e in _events(db, "permission.denied")] == ["support_users"] * 2
    assert _outbox(db, "email_change") == []


def test_an_invited_or_deactivated_account_is_not_changed_this_way(db, people, make_user):
    invited = make_user("inv@acme.example", status="invited")
    with pytest.raises(InvalidInput, match="invitation"):
        _request(db, people, user_id=invited)
    with pytest.raises(InvalidInput, match="sign in"):
        support_tools.send_reset_link(db, people["support"], user_id=invited)


def test_support_switches_new_result_emails_on_and_off_and_the_person_is_told(db, people):
    support = people["support"]
    assert not support_tools.state(db, support, user_id=people["dana"]).result_notices
    assert support_tools.set_result_notices(db, support, user_id=people["dana"], enabled=True) == "now on"
    assert _user(db, people["dana"]).notify_new_results
    assert support_tools.state(db, support, user_id=people["dana"]).result_notices
    assert support_tools.set_result_notices(db, support, user_id=people["dana"], enabled=True) == "already on"
    support_tools.set_result_notices(db, support, user_id=people["dana"], enabled=False)
    assert not _user(db, people["dana"]).notify_new_results
    events = _events(db, "notices.changed")
    assert [(e.actor_email, e.target_id, e.details) for e in events] == [
        ("support@x.test", str(people["dana"]), {"new_results": True, "by": "support"}),
        ("support@x.test", str(people["dana"]), {"new_results": False, "by": "support"})]
    told = [m for m in _outbox(db, "account_changed") if "new reports" in m.body]
    assert [m.to_address for m in told] == ["dana@acme.example"] * 2
    with pytest.raises(PermissionDenied):
        support_tools.set_result_notices(db, people["privacy"], user_id=people["dana"], enabled=True)


def test_support_sends_the_forgot_password_link_and_it_resets(db, people):
    expires = support_tools.send_reset_link(db, people["support"], user_id=people["dana"])
    assert expires == clock.now() + timedelta(hours=1)
    [message] = _outbox(db, "password_reset")
    assert message.to_address == "dana@acme.example"
    assert f"{PORTAL}/reset-password?token=" in message.body  # the Forgot-password link
    [event] = _events(db, "password.reset_requested")
    assert (event.actor_email, event.details) == ("support@x.test", {"by": "support"})
    token = re.search(r"token=([\w-]+)", message.body).group(1)
    password_reset.reset_password(db, raw_token=token, password=NEW_PASSWORD)
    assert auth.sign_in(db, email="dana@acme.example", password=NEW_PASSWORD).token


def test_reset_links_sent_by_support_count_against_the_hourly_limit(db, people):
    for _ in range(password_reset.RESETS_PER_HOUR):
        support_tools.send_reset_link(db, people["support"], user_id=people["dana"])
    with pytest.raises(InvalidInput, match="in the last hour"):
        support_tools.send_reset_link(db, people["support"], user_id=people["dana"])
    assert len(_outbox(db, "password_reset")) == password_reset.RESETS_PER_HOUR
