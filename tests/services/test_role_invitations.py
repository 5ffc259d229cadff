"""Invitations wait for the invited person: the admin learns nothing about an address, the
person sees who invited them to what, and nothing is given until they accept."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Account, AuditEvent, OutboxMessage, RoleInvitation, User
from services import clock, principals
from services.errors import InvalidInput, PermissionDenied
from services.identity import auth, memberships, role_invitations
from services.identity.tokens import InvalidToken
from services.policy import Grant, Role
from tests.conftest import PASSWORD

NEW_PASSWORD = "Harbor-Lights-2026"


@pytest.fixture
def acme(db, make_user):
    with db.transaction() as session:
        account = Account(name="Acme Freight", kind="employer", created_at=clock.now())
        other = Account(name="Bolt Logistics", kind="employer", created_at=clock.now())
        session.add_all([account, other])
        session.flush()
        ids = account.id, other.id
    make_user("admin@acme.example", name="Ada Admin", accounts=((ids[0], "account_admin"),))
    # Someone Acme's admin must learn nothing about: a user of another account only.
    make_user("known@bolt.example", name="Real Name Kept Private", accounts=((ids[1], "account_user"),))
    return ids[0]


def _principal(db, email: str):
    with db.transaction(write=False) as session:
        return principals.load(session, session.scalar(select(User).where(User.email == email)))


def _mail(db, to: str) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == to)
                                    .order_by(OutboxMessage.id)))


def _token(message: OutboxMessage) -> str:
    return re.search(r"accept-invitation\?token=([\w-]+)", message.body).group(1)


def _roles(db, email: str) -> list[Grant]:
    with db.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == email))
        return [] if user is None else memberships.grants_of(session, user.id)


def _actions(db) -> list[str]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_known_and_unknown_addresses_look_the_same_to_the_admin(db, acme, fake_clock):
    admin = _principal(db, "admin@acme.example")
    role = Grant(Role.ACCOUNT_USER, account_id=acme)
    known = role_invitations.invite(db, admin, email="Known@Bolt.example", name="Kim Typed", role=role)
    new = role_invitations.invite(db, admin, email="new@bolt.example", name="Kim Typed", role=role)
    rows = {row.id: row for row in role_invitations.waiting(db, admin)}
    first, second = rows[known], rows[new]
    assert first.email == "known@bolt.example" and second.email == "new@bolt.example"
    assert (first.name, first.role, first.sent_at, first.expires_at, first.expired) == (
        second.name, second.role, second.sent_at, second.expires_at, second.expired)
    assert first.name == "Kim Typed" and first.role == "Client account user: Acme Freight"
    assert "Real Name Kept Private" not in repr(rows)
    # Nothing attached; nobody was created; both emails say the same apart from the address.
    assert _roles(db, "known@bolt.example") == [Grant(Role.ACCOUNT_USER, account_id=acme + 1)]
    assert _roles(db, "new@bolt.example") == []
    [mail_known], [mail_new] = _mail(db, "known@bolt.example"), _mail(db, "new@bolt.example")
    assert (re.sub(r"token=\S+", "", mail_known.body) == re.sub(r"token=\S+", "", mail_new.body))
    assert "Ada Admin invited you to ResultsDesk as Client account user: Acme Freight" in mail_new.body
    assert fake_clock.current + timedelta(hours=48) == first.expires_at


def test_a_new_address_accepts_with_a_password_and_the_terms(db, acme, fake_clock):
    admin = _principal(db, "admin@acme.example")
    role_invitations.invite(db, admin, email="nia@acme.example", name="Nia Typo",
                            role=Grant(Role.ACCOUNT_USER, account_id=acme))
    token = _token(_mail(db, "nia@acme.example")[-1])
    offer = role_invitations.offer(db, token)
    assert (offer.inviter, offer.role, offer.has_account) == (
        "Ada Admin", "Client account user: Acme Freight", False)
    with pytest.raises(InvalidInput, match="terms of use"):
        role_invitations.accept_new(db, raw_token=token, name="Nia Hire", password=NEW_PASSWORD,
                                    accept_terms=False)
    assert _roles(db, "nia@acme.example") == []
    role_invitations.accept_new(db, raw_token=token, name="Nia Hire", password=NEW_PASSWORD,
                                accept_terms=True)
    assert _roles(db, "nia@acme.example") == [Grant(Role.ACCOUNT_USER, account_id=acme)]
    signed_in = auth.sign_in(db, email="nia@acme.example", password=NEW_PASSWORD).principal
    assert signed_in.name == "Nia Hire" and signed_in.terms_version
    with pytest.raises(InvalidToken):
        role_invitations.offer(db, token)  # used once
    assert role_invitations.waiting(db, admin) == []
    assert "invitation.accepted" in _actions(db)


def test_an_existing_account_accepts_only_signed_in_as_itself(db, acme, fake_clock):
    admin = _principal(db, "admin@acme.example")
    role = Grant(Role.ACCOUNT_ADMIN, account_id=acme + 1)
    with pytest.raises(PermissionDenied):  # not Acme's admin's to give
        role_invitations.invite(db, admin, email="known@bolt.example", name="K", role=role)
    role = Grant(Role.ACCOUNT_USER, account_id=acme)
    role_invitations.invite(db, admin, email="known@bolt.example", name="K", role=role)
    token = _token(_mail(db, "known@bolt.example")[-1])
    assert role_invitations.offer(db, token).has_account
    with pytest.raises(InvalidInput, match="sign in"):
        role_invitations.accept_new(db, raw_token=token, name="Thief", password=NEW_PASSWORD,
                                    accept_terms=True)
    stranger = _principal(db, "admin@acme.example")
    with pytest.raises(InvalidInput, match="another email address"):
        role_invitations.accept_signed_in(db, stranger, raw_token=token)
    assert role not in _roles(db, "known@bolt.example")
    person = auth.sign_in(db, email="known@bolt.example", password=PASSWORD).principal
    assert role_invitations.accept_signed_in(db, person, raw_token=token) == (
        "Client account user: Acme Freight")
    assert role in _roles(db, "known@bolt.example")
    with pytest.raises(InvalidToken):
        role_invitations.accept_signed_in(db, person, raw_token=token)


def test_declined_cancelled_expired_and_superseded_links_give_nothing(db, acme, fake_clock):
    admin = _principal(db, "admin@acme.example")
    role = Grant(Role.ACCOUNT_USER, account_id=acme)
    person = _principal(db, "known@bolt.example")

    declined = role_invitations.invite(db, admin, email="known@bolt.example", name="K", role=role)
    role_invitations.decline(db, raw_token=_token(_mail(db, "known@bolt.example")[-1]))

    cancelled = role_invitations.invite(db, admin, email="known@bolt.example", name="K", role=role)
    cancelled_link = _token(_mail(db, "known@bolt.example")[-1])
    role_invitations.cancel(db, admin, invitation_id=cancelled)
    with pytest.raises(InvalidToken):
        role_invitations.accept_signed_in(db, person, raw_token=cancelled_link)

    resent = role_invitations.invite(db, admin, email="known@bolt.example", name="K", role=role)
    old_link = _token(_mail(db, "known@bolt.example")[-1])
    with pytest.raises(InvalidInput, match="already waiting"):
        role_invitations.invite(db, admin, email="known@bolt.example", name="K", role=role)
    fake_clock.advance(hours=47, minutes=59)
    role_invitations.resend(db, admin, invitation_id=resent)
    new_link = _token(_mail(db, "known@bolt.example")[-1])
    with pytest.raises(InvalidToken):
        role_invitations.accept_signed_in(db, person, raw_token=old_link)
    fake_clock.advance(hours=48, seconds=1)
    with pytest.raises(InvalidToken) as expired:
        role_invitations.accept_signed_in(db, person, raw_token=new_link)
    assert expired.value.expired and "Ask your administrator" in str(expired.value)
    [row] = role_invitations.waiting(db, admin)
    assert (row.id, row.expired) == (resent, True)

    assert role not in _roles(db, "known@bolt.example")
    with db.transaction(write=False) as session:
        states = dict(session.execute(select(RoleInvitation.id, RoleInvitation.status)).all())
        stored = session.scalars(select(RoleInvitation.token_hash)).all()
        details = session.scalars(select(AuditEvent.details)).all()
    assert states == {declined: "declined", cancelled: "cancelled", resent: "pending"}
    assert not {old_link, new_link, cancelled_link} & set(stored)
    assert not any(link in repr(details) for link in (old_link, new_link, cancelled_link))
    assert [a for a in _actions(db) if a.startswith("invitation.")] == [
        "invitation.sent", "invitation.declined", "invitation.sent", "invitation.cancelled",
        "invitation.sent", "invitation.resent"]


def test_a_link_stops_working_when_the_inviter_may_no_longer_give_the_role(db, acme, fake_clock):
    admin = _principal(db, "admin@acme.example")
    role_invitations.invite(db, admin, email="nia@acme.example", name="Nia",
                            role=Grant(Role.ACCOUNT_USER, account_id=acme))
    token = _token(_mail(db, "nia@acme.example")[-1])
    with db.transaction() as session:
        session.scalar(select(User).where(User.email == "admin@acme.example")).status = "deactivated"
    with pytest.raises(InvalidToken):
        role_invitations.accept_new(db, raw_token=token, name="Nia", password=NEW_PASSWORD,
                                    accept_terms=True)
    assert _roles(db, "nia@acme.example") == []
