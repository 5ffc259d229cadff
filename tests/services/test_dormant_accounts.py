"""Dormant accounts: a warning email seven days before the limit, once; deactivation at the
limit (sessions ended, audited, emailed); the shorter limit for staff and admins; accounts that
never signed in; reactivated accounts get a whole limit; two runs at once act once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from db.models import AuditEvent, LoginSession, OutboxMessage, User
from services.identity import auth, dormant_accounts, sessions, users
from services.identity.sessions import SessionEnded
from tests.conftest import PASSWORD, principal_of


def _emails(db, to: str) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == to)
                                    .order_by(OutboxMessage.id)))


def _events(db, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


def _status(db, user_id: int) -> str:
    with db.transaction(write=False) as session:
        return session.get(User, user_id).status


@pytest.fixture
def client(db, make_user, fake_clock) -> int:
    """A client user alone, signed in today."""
    user_id = make_user("worker@acme.test", name="Wendy Worker")
    auth.sign_in(db, email="worker@acme.test", password=PASSWORD)
    return user_id


@pytest.fixture
def people(db, make_user, fake_clock):
    """A client user, a support rep and an admin to reactivate people, all signed in today."""
    ids = {"client": make_user("worker@acme.test", name="Wendy Worker"),
           "support": make_user("support@portal.test", name="Sam Support", staff=("support_rep",)),
           "admin": make_user("admin@portal.test", name="Ada Admin", staff=("system_admin",))}
    for email in ("worker@acme.test", "support@portal.test", "admin@portal.test"):
        auth.sign_in(db, email=email, password=PASSWORD)
    return ids


def _keep_admin_signed_in(db):
    auth.sign_in(db, email="admin@portal.test", password=PASSWORD)


def test_a_client_account_is_warned_once_at_83_days_and_deactivated_at_90(db, client, fake_clock):
    fake_clock.advance(days=83, seconds=-1)  # 83 days since the sign-in, less a second
    assert dormant_accounts.run(db).warned == 0
    fake_clock.advance(seconds=1)
    assert dormant_accounts.run(db).warned == 1
    warning = [m for m in _emails(db, "worker@acme.test") if m.kind == "dormant_warning"]
    assert len(warning) == 1 and "within the next seven days" in warning[0].body
    assert "Wendy Worker" in warning[0].body

    fake_clock.advance(days=3)
    assert dormant_accounts.run(db).warned == 0  # once, however often the job runs
    assert len([m for m in _emails(db, "worker@acme.test") if m.kind == "dormant_warning"]) == 1

    fake_clock.advance(days=4, seconds=-1)  # 90 days less a second
    assert dormant_accounts.run(db).deactivated == 0
    assert _status(db, client) == "active"
    fake_clock.advance(seconds=1)
    assert dormant_accounts.run(db).deactivated == 1
    assert _status(db, client) == "deactivated"
    with pytest.raises(auth.SignInFailed):
        auth.sign_in(db, email="worker@acme.test", password=PASSWORD)
    event = _events(db, "user.deactivated_dormant")[0]
    assert event.target_id == str(client) and event.actor_user_id is None
    assert event.details["limit_days"] == 90 and event.details["new_status"] == "deactivated"
    told = _emails(db, "worker@acme.test")[-1]
    assert told.subject == "Your ResultsDesk account was deactivated" and "reactivate" in told.body
    assert dormant_accounts.run(db).deactivated == 0


def test_deactivation_ends_every_open_session(db, client, fake_clock):
    signed_in = auth.sign_in(db, email="worker@acme.test", password=PASSWORD)
    fake_clock.advance(days=83)
    dormant_accounts.run(db)
    fake_clock.advance(days=7)
    dormant_accounts.run(db)
    with db.transaction(write=False) as session:
        kept = session.scalars(select(LoginSession).where(
            LoginSession.user_id == client, LoginSession.ended_at.is_(None))).all()
        ended = session.scalars(select(LoginSession).where(LoginSession.user_id == client)).all()
    assert kept == [] and len(ended) == 2 and {s.end_reason for s in ended} == {"deactivated"}
    assert _events(db, "user.deactivated_dormant")[0].details["sessions_ended"] == 2
    with pytest.raises(SessionEnded):
        sessions.resume(db, signed_in.token)


def test_staff_have_the_shorter_limit(db, people, fake_clock):
    fake_clock.advance(days=38)
    run = dormant_accounts.run(db)
    # The support rep and the admin at 38 days; the client user not yet.
    assert run.warned == 2
    assert [m.kind for m in _emails(db, "worker@acme.test")] == []
    fake_clock.advance(days=7)
    assert dormant_accounts.run(db).deactivated == 1  # the support rep; the only admin is kept
    assert _status(db, people["support"]) == "deactivated"
    assert _status(db, people["client"]) == "active"
    assert _status(db, people["admin"]) == "active"
    assert _events(db, "user.deactivated_dormant")[0].details["limit_days"] == 45


def test_limits_come_from_the_environment_at_call_time(db, people, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_DORMANT_DAYS", "30")
    monkeypatch.setenv("RESULTSDESK_DORMANT_STAFF_DAYS", "60")  # never longer than everyone's
    assert [d.days for d in dormant_accounts.limits()] == [30, 30]
    fake_clock.advance(days=23)
    assert dormant_accounts.run(db).warned == 3
    monkeypatch.setenv("RESULTSDESK_DORMANT_DAYS", "7")
    with pytest.raises(SystemExit, match="more than 7 days"):
        dormant_accounts.limits()


def test_an_account_that_never_signed_in_counts_from_its_creation(db, make_user, fake_clock):
    never = make_user("never@acme.test")
    fake_clock.advance(days=83)
    assert dormant_accounts.run(db).warned == 1
    fake_clock.advance(days=7)
    assert dormant_accounts.run(db).deactivated == 1
    assert _status(db, never) == "deactivated"
    assert _events(db, "user.deactivated_dormant")[0].details["last_sign_in"] == "never"


def test_an_invited_person_is_left_alone(db, make_user, fake_clock):
    make_user("invited@acme.test", status="invited")
    fake_clock.advance(days=200)
    assert dormant_accounts.run(db) == dormant_accounts.DormancyRun(warned=0, deactivated=0)


def test_signing_in_after_the_warning_keeps_the_account_and_a_later_lapse_warns_again(
        db, client, fake_clock):
    fake_clock.advance(days=83)
    dormant_accounts.run(db)
    fake_clock.advance(days=2)
    auth.sign_in(db, email="worker@acme.test", password=PASSWORD)
    fake_clock.advance(days=5)
    assert dormant_accounts.run(db).deactivated == 0
    assert _status(db, client) == "active"
    fake_clock.advance(days=78)  # 83 days after that sign-in
    dormant_accounts.run(db)
    assert len([m for m in _emails(db, "worker@acme.test") if m.kind == "dormant_warning"]) == 2


def test_no_deactivation_without_a_warning_seven_days_old(db, client, fake_clock):
    fake_clock.advance(days=120)  # the job did not run for a long time
    assert dormant_accounts.run(db) == dormant_accounts.DormancyRun(warned=1, deactivated=0)
    assert _status(db, client) == "active"
    fake_clock.advance(days=7, seconds=-1)
    assert dormant_accounts.run(db).deactivated == 0
    fake_clock.advance(seconds=1)
    assert dormant_accounts.run(db).deactivated == 1
    assert _status(db, client) == "deactivated"


def test_a_reactivated_account_gets_a_whole_limit_before_the_next_deactivation(db, people, fake_clock):
    client = people["client"]
    fake_clock.advance(days=83)
    _keep_admin_signed_in(db)
    dormant_accounts.run(db)
    fake_clock.advance(days=7)
    dormant_accounts.run(db)
    assert _status(db, client) == "deactivated"

    users.reactivate(db, principal_of(db, "admin@portal.test"), user_id=client)
    for _ in range(2):  # the next runs leave it alone, warning included
        fake_clock.advance(hours=1)
        assert dormant_accounts.run(db) == dormant_accounts.DormancyRun(0, 0)
    assert _status(db, client) == "active"
    fake_clock.advance(days=83, hours=-2)  # 83 days after the reactivation
    _keep_admin_signed_in(db)
    assert dormant_accounts.run(db).warned == 1
    fake_clock.advance(days=7)
    assert dormant_accounts.run(db).deactivated == 1
    assert _status(db, client) == "deactivated"


def test_an_accepted_invitation_counts_from_its_acceptance(db, make_user, fake_clock):
    invited = make_user("late@acme.test", status="invited")
    fake_clock.advance(days=80)
    with db.transaction() as session:  # what invitations.accept sets
        user = session.get(User, invited)
        user.status, user.active_since = "active", fake_clock.now()
    fake_clock.advance(days=10)
    assert dormant_accounts.run(db).warned == 0
    fake_clock.advance(days=73)
    assert dormant_accounts.run(db).warned == 1


def test_two_runs_at_once_warn_and_deactivate_once(db, make_user, fake_clock):
    ids = [make_user(f"idle{n}@acme.test") for n in range(6)]
    fake_clock.advance(days=83)
    results: list[dormant_accounts.DormancyRun] = []

    def both() -> None:
        threads = [threading.Thread(target=lambda: results.append(dormant_accounts.run(db)))
                   for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    both()
    assert sum(r.warned for r in results) == 6
    assert len(_events(db, "user.dormant_warned")) == 6
    for email in (f"idle{n}@acme.test" for n in range(6)):
        assert [m.kind for m in _emails(db, email)] == ["dormant_warning"]
    fake_clock.advance(days=7)
    results.clear()
    both()
    assert sum(r.deactivated for r in results) == 6
    assert len(_events(db, "user.deactivated_dormant")) == 6
    assert {_status(db, user_id) for user_id in ids} == {"deactivated"}
    for email in (f"idle{n}@acme.test" for n in range(6)):
        assert len(_emails(db, email)) == 2
