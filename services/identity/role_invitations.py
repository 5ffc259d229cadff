"""Inviting someone to a role: an offer sent to an email address, given only when accepted.

There is one path, whether or not the address already has an account: the admin's invitation
becomes a row in role_invitations and an email with a link; the admin sees the same "Invitation
sent" and the same list entry (the address, the name they typed, the role) either way, and
never the account's real name, status or other roles. The person opens the link and sees who
invited them to what; a new person sets a password and accepts the terms, a person with an
account signs in and accepts. Nothing is attached before that.

Resend and cancel act on the invitation and are checked like giving its role
(reach.may_grant): any admin who may give that role at that place may resend or cancel it.
At acceptance the inviter must still be an active admin who may give the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import RoleInvitation, User
from services import audit, clock, principals, reach, settings
from services.errors import InvalidInput
from services.identity import memberships, password_policy, passwords, terms, tokens
from services.identity.tokens import InvalidToken
from services.mail import account_emails, addresses
from services.policy import Action, Grant, Role
from services.principals import Principal
from services.statuses import InvitationStatus, UserStatus
from services.transaction import transaction

EXPIRED = "This invitation link has expired. Ask your administrator to send a new one."
NOT_VALID = "This invitation link is not valid. Ask your administrator for a new invitation."
LIST_LIMIT = 200


@dataclass(frozen=True)
class InvitationRow:
    """One entry of the admin's list: only what the admin typed and chose, nothing of any account."""

    id: int
    email: str
    name: str
    role: str  # role and place, in words
    inviter: str
    sent_at: datetime
    expires_at: datetime
    expired: bool


@dataclass(frozen=True)
class InvitationOffer:
    """What the link's holder sees: who invited them to what, and how to accept."""

    email: str
    name: str
    inviter: str
    role: str
    expires_at: datetime
    has_account: bool  # True: sign in to accept; False: set a password to accept


def grant_of(invitation: RoleInvitation) -> Grant:
    return Grant(Role(invitation.role), group_id=invitation.group_id,
                 provider_id=invitation.provider_id, account_id=invitation.account_id)


def invite(db: Database, principal: Principal, *, email: str, name: str, role: Grant,
           phone: str = "") -> int:
    """Send an invitation to one role; returns its id. The answer never depends on whether the
    address has an account."""
    address = addresses.checked(email)
    if not name.strip() or len(name) > 200:
        raise InvalidInput("Enter the person's name (at most 200 characters).")
    now = clock.now()
    with transaction(db) as session:
        memberships.require_role(session, principal, role, None)
        waiting = session.scalar(select(RoleInvitation.id).where(
            RoleInvitation.email == address, RoleInvitation.status == InvitationStatus.PENDING,
            RoleInvitation.expires_at > now, RoleInvitation.role == role.role,
            _same(RoleInvitation.group_id, role.group_id),
            _same(RoleInvitation.provider_id, role.provider_id),
            _same(RoleInvitation.account_id, role.account_id)))
        if waiting is not None:
            raise InvalidInput("An invitation to this role is already waiting for that address: "
                               "resend it from the list of invitations.")
        raw, hashed = tokens.new_secret()
        invitation = RoleInvitation(
            email=address, name=name.strip(), phone=phone.strip()[:40], role=role.role,
            group_id=role.group_id, provider_id=role.provider_id, account_id=role.account_id,
            inviter_user_id=principal.user_id, inviter_name=principal.name, token_hash=hashed,
            created_at=now, expires_at=now + settings.current().invitation_lifetime,
            status=InvitationStatus.PENDING)
        session.add(invitation)
        session.flush()
        _email(session, invitation, raw, now)
        _record(session, principal, "invitation.sent", invitation, now)
        return invitation.id


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _email(session: Session, invitation: RoleInvitation, raw: str, now: datetime) -> None:
    account_emails.role_invitation(
        session, to=invitation.email, name=invitation.name, inviter=invitation.inviter_name,
        role=memberships.label(session, grant_of(invitation)), token=raw, now=now)


def _record(session: Session, principal: Principal | None, action: str,
            invitation: RoleInvitation, now: datetime, **details) -> None:
    audit.record(session, action=action, actor_user_id=principal and principal.user_id,
                 actor_email=principal and principal.email, target_type="invitation",
                 target_id=invitation.id, now=now,
                 details={"email": invitation.email, **memberships.describe(grant_of(invitation)),
                          **details})


def _in_reach(session: Session, principal: Principal, invitation_id: int) -> RoleInvitation:
    """An unknown invitation and one whose role the admin may not give: the same refusal."""
    principal.require(Action.MANAGE_USERS, target_type="invitation", target_id=invitation_id)
    invitation = session.get(RoleInvitation, invitation_id)
    if invitation is None or not reach.may_grant(principal, grant_of(invitation)):
        raise principal.denied(Action.MANAGE_USERS, target_type="invitation",
                               target_id=invitation_id)
    return invitation


def resend(db: Database, principal: Principal, *, invitation_id: int) -> None:
    """A fresh link valid for the whole invitation lifetime again; the earlier link stops working."""
    now = clock.now()
    with transaction(db) as session:
        invitation = _in_reach(session, principal, invitation_id)
        if invitation.status != InvitationStatus.PENDING:
            raise InvalidInput("That invitation was already answered or cancelled.")
        raw, invitation.token_hash = tokens.new_secret()
        invitation.expires_at = now + settings.current().invitation_lifetime
        _email(session, invitation, raw, now)
        _record(session, principal, "invitation.resent", invitation, now)


def cancel(db: Database, principal: Principal, *, invitation_id: int) -> None:
    """Withdraw an invitation; its link stops working."""
    now = clock.now()
    with transaction(db) as session:
        invitation = _in_reach(session, principal, invitation_id)
        if invitation.status != InvitationStatus.PENDING:
            raise InvalidInput("That invitation was already answered or cancelled.")
        invitation.status, invitation.resolved_at = InvitationStatus.CANCELLED, now
        _record(session, principal, "invitation.cancelled", invitation, now)


def waiting(db: Database, principal: Principal) -> list[InvitationRow]:
    """Invitations not yet answered whose role the admin may give, newest first."""
    now = clock.now()
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS, target_type="invitation")
        # Only invitations whose role the admin may give are read (may_grant still decides).
        givable = reach.grant_condition(principal, RoleInvitation.role, RoleInvitation.group_id,
                                        RoleInvitation.provider_id, RoleInvitation.account_id)
        query = select(RoleInvitation).where(RoleInvitation.status == InvitationStatus.PENDING, givable)
        found = session.scalars(query.order_by(RoleInvitation.created_at.desc(),
                                               RoleInvitation.id.desc())
                                .execution_options(yield_per=100))
        rows = []
        for invitation in found:
            if not reach.may_grant(principal, grant_of(invitation)):
                continue
            rows.append(InvitationRow(
                invitation.id, invitation.email, invitation.name,
                memberships.label(session, grant_of(invitation)), invitation.inviter_name,
                invitation.created_at, invitation.expires_at, invitation.expires_at <= now))
            if len(rows) == LIST_LIMIT:
                break
        return rows


def _open(session: Session, raw_token: str, now: datetime) -> RoleInvitation:
    invitation = session.scalar(select(RoleInvitation).where(
        RoleInvitation.token_hash == tokens.digest(raw_token or "")))
    if invitation is None or invitation.status != InvitationStatus.PENDING:
        raise InvalidToken(NOT_VALID)
    if invitation.expires_at <= now:
        raise InvalidToken(EXPIRED, expired=True)
    return invitation


def _account(session: Session, invitation: RoleInvitation) -> User | None:
    """The invited address's account, if it has one that signs in (an older invited account
    without a password counts as none: the link's holder sets its password)."""
    user = session.scalar(select(User).where(User.email == invitation.email))
    return None if user is None or user.status == UserStatus.INVITED else user


def offer(db: Database, raw_token: str) -> InvitationOffer:
    """What the link offers, for the accept screen; InvalidToken (with the message to show)."""
    with transaction(db, write=False) as session:
        invitation = _open(session, raw_token, clock.now())
        return InvitationOffer(invitation.email, invitation.name, invitation.inviter_name,
                               memberships.label(session, grant_of(invitation)),
                               invitation.expires_at, _account(session, invitation) is not None)


def _redeem(session: Session, invitation: RoleInvitation, status: str, now: datetime) -> None:
    """Answer the invitation once: two tabs answering the same link cannot both succeed."""
    answered = session.execute(
        update(RoleInvitation).where(RoleInvitation.id == invitation.id,
                                     RoleInvitation.token_hash == invitation.token_hash,
                                     RoleInvitation.status == InvitationStatus.PENDING,
                                     RoleInvitation.expires_at > now)
        .values(status=status, resolved_at=now).execution_options(synchronize_session=False)).rowcount
    if not answered:
        raise InvalidToken(NOT_VALID)


def _inviter_still_may_give(session: Session, invitation: RoleInvitation) -> None:
    inviter = (session.get(User, invitation.inviter_user_id)
               if invitation.inviter_user_id is not None else None)
    if inviter is None or inviter.status == UserStatus.DEACTIVATED or not reach.may_grant(
            principals.load(session, inviter), grant_of(invitation)):
        raise InvalidToken(NOT_VALID)


def accept_new(db: Database, *, raw_token: str, name: str, password: str,
               accept_terms: bool) -> None:
    """For an address without an account: create it with this password and give the role.
    Nobody is signed in here."""
    if not accept_terms:
        raise InvalidInput("Please read and accept the terms of use.")
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("Enter your name (at most 200 characters).")
    with transaction(db, write=False) as session:
        address = _open(session, raw_token, clock.now()).email
    password_policy.check(password, email=address, name=name)
    password_hash = passwords.hash_password(password)  # outside the transaction: bcrypt is slow
    now = clock.now()
    with transaction(db) as session:
        invitation = _open(session, raw_token, now)
        if _account(session, invitation) is not None:
            raise InvalidInput("This address already has an account: sign in to accept.")
        _inviter_still_may_give(session, invitation)
        _redeem(session, invitation, InvitationStatus.ACCEPTED, now)
        user = session.scalar(select(User).where(User.email == invitation.email))
        if user is None:
            user = User(email=invitation.email, name=name, phone=invitation.phone,
                        status=UserStatus.ACTIVE, created_at=now)
            session.add(user)
        user.name, user.password_hash, user.status = name, password_hash, UserStatus.ACTIVE
        session.flush()
        terms.record_acceptance(session, user, now=now)
        invitation.user_id = user.id
        before = memberships.grants_of(session, user.id)
        if grant_of(invitation) not in before:
            memberships.add_role(session, user.id, grant_of(invitation))
        audit.record(session, action="invitation.accepted", actor_user_id=user.id,
                     actor_email=user.email, target_type="invitation", target_id=invitation.id,
                     now=now, details={**memberships.describe(grant_of(invitation)),
                                       "user_id": user.id, "new_account": True,
                                       "terms_version": user.terms_version})


def accept_signed_in(db: Database, principal: Principal, *, raw_token: str) -> str:
    """The invited person, signed in, accepts: the role is theirs from now. Returns its words."""
    now = clock.now()
    with transaction(db) as session:
        invitation = _open(session, raw_token, now)
        if invitation.email != principal.email:
            raise InvalidInput("This invitation was sent to another email address. Sign out, "
                               "then sign in as the person invited.")
        _inviter_still_may_give(session, invitation)
        _redeem(session, invitation, InvitationStatus.ACCEPTED, now)
        invitation.user_id = principal.user_id
        role = grant_of(invitation)
        before = memberships.grants_of(session, principal.user_id)
        if role not in before:
            memberships.add_role(session, principal.user_id, role)
        audit.record(session, action="invitation.accepted", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="invitation",
                     target_id=invitation.id, now=now,
                     details={**memberships.describe(role), "user_id": principal.user_id,
                              "new_account": False,
                              "old_roles": [memberships.describe(g) for g in before],
                              "new_roles": [memberships.describe(g) for g in
                                            memberships.grants_of(session, principal.user_id)]})
        return memberships.label(session, role)


def decline(db: Database, *, raw_token: str, principal: Principal | None = None) -> None:
    """The link's holder says no; the invitation ends and nothing is given."""
    now = clock.now()
    with transaction(db) as session:
        invitation = _open(session, raw_token, now)
        _redeem(session, invitation, InvitationStatus.DECLINED, now)
        _record(session, principal, "invitation.declined", invitation, now)
