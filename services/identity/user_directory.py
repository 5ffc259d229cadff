"""Finding users on the Users screen: search and filters, limited to the acting admin's reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select

from db.engine import Database
from db.models import Account, AccountMembership, Membership, Provider, ProviderGroup, StaffRole, Token, User
from services import clock, reach
from services.errors import InvalidInput
from services.identity import memberships
from services.policy import Action, Role
from services.principals import Principal
from services.statuses import InvitationState, UserStatus, values
from services.transaction import transaction

PAGE_SIZE = 50
DORMANT_DAYS_LIMIT = 3650


@dataclass(frozen=True)
class UserFilter:
    text: str = ""  # part of the email or name
    status: str | None = None
    role: Role | None = None
    group_id: int | None = None
    account_id: int | None = None
    invitation: InvitationState | None = None
    signed_in_since: datetime | None = None
    never_signed_in: bool = False
    # Dormant: not signed in for this many days: the last sign-in is older, or there was none
    # and the account is older (an account that never signed in is as unused as one that stopped).
    dormant_days: int | None = None


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    status: str
    roles: tuple[str, ...]
    last_login_at: datetime | None
    invitation: str  # "" or an InvitationState
    phone: str = ""
    places: tuple[str, ...] = ()  # the provider, provider group or account of each role, once


def search(db: Database, principal: Principal, user_filter: UserFilter, *,
           after_email: str | None = None) -> tuple[list[UserRow], bool]:
    """One page of users (by email) the admin reaches; and whether more follow.

    Keyset pages: the next page starts after the last email of this one (`after_email`, see
    next_cursor), so every person the filter matches is on exactly one page, in email order,
    however deep the list (emails are unique)."""
    f = user_filter
    now = clock.now()
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS, target_type="user")
        query = select(User).where(reach.user_condition(principal))
        if f.text.strip():
            needle = f"%{f.text.strip().lower()[:100]}%"
            query = query.where(or_(User.email.like(needle), func.lower(User.name).like(needle)))
        if f.status:
            if f.status not in values(UserStatus):
                raise InvalidInput("Unknown status.")
            query = query.where(User.status == f.status)
        if f.role is not None:
            query = query.where(or_(
                exists().where(StaffRole.user_id == User.id, StaffRole.role == f.role),
                exists().where(Membership.user_id == User.id, Membership.role == f.role),
                exists().where(AccountMembership.user_id == User.id, AccountMembership.role == f.role)))
        if f.group_id is not None:
            query = query.where(exists().where(Membership.user_id == User.id,
                                               Membership.group_id == f.group_id))
        if f.account_id is not None:
            query = query.where(exists().where(AccountMembership.user_id == User.id,
                                               AccountMembership.account_id == f.account_id))
        if f.signed_in_since is not None:
            query = query.where(User.last_login_at >= f.signed_in_since)
        if f.never_signed_in:
            query = query.where(User.last_login_at.is_(None))
        if f.dormant_days is not None:
            if not 1 <= f.dormant_days <= DORMANT_DAYS_LIMIT:
                raise InvalidInput(f"Enter a number of days from 1 to {DORMANT_DAYS_LIMIT:,}.")
            since = now - timedelta(days=f.dormant_days)
            query = query.where(or_(User.last_login_at < since,
                                    and_(User.last_login_at.is_(None), User.created_at < since)))
        invitation_open = (Token.user_id == User.id, Token.purpose == "invitation",
                           Token.used_at.is_(None))
        if f.invitation == InvitationState.PENDING:
            query = query.where(exists().where(*invitation_open, Token.expires_at > now))
        elif f.invitation == InvitationState.EXPIRED:
            query = query.where(User.status == UserStatus.INVITED, ~exists().where(
                *invitation_open, Token.expires_at > now))
        if after_email is not None:
            query = query.where(User.email > after_email)
        found = session.scalars(query.order_by(User.email).limit(PAGE_SIZE + 1)).all()
        rows = [_row(session, principal, user, now) for user in found[:PAGE_SIZE]]
    return rows, len(found) > PAGE_SIZE


def next_cursor(rows: list[UserRow], more: bool) -> str | None:
    """Where the page after these rows starts (None: this is the last page)."""
    return rows[-1].email if more and rows else None


def _row(session, principal: Principal, user: User, now: datetime) -> UserRow:
    # Roles at places outside the admin's reach are not theirs to see.
    visible = reach.visible_roles(principal, reach.of_user(session, user.id),
                                  memberships.grants_of(session, user.id))
    roles = sorted({str(grant.role) for grant in visible})
    places = tuple(dict.fromkeys(name for name in (_place(session, grant) for grant in visible) if name))
    invitation = ""
    if user.status == UserStatus.INVITED:
        pending = session.scalar(select(func.count()).select_from(Token).where(
            Token.user_id == user.id, Token.purpose == "invitation", Token.used_at.is_(None),
            Token.expires_at > now))
        invitation = InvitationState.PENDING if pending else InvitationState.EXPIRED
    return UserRow(user.id, user.email, user.name, user.status, tuple(roles), user.last_login_at,
                   invitation, user.phone, places)


def _place(session, grant) -> str:
    """Where a role applies, in one name: the provider, else the whole group, else the account."""
    if grant.provider_id is not None:
        return session.get(Provider, grant.provider_id).name
    if grant.group_id is not None:
        return session.get(ProviderGroup, grant.group_id).name
    if grant.account_id is not None:
        return session.get(Account, grant.account_id).name
    return "Whole portal"  # a staff role
