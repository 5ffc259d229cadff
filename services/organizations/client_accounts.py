"""Employer, payor and TPA accounts and their people, for account representatives.

An account representative (or a system admin) creates an account, edits its details, deactivates
and reactivates it, and invites its first admin. A deactivated account keeps its people and its
routed reports, but nobody reaches it: services/principals.py leaves its memberships out of every
principal (so the report scope, the Users screen and every other check follow at the person's
next click), uploads naming it are refused (services/reports/ingest.py), and no role is given at
it until it is reactivated, which gives the same people their access back.

An account's kind (employer, payor or TPA) is fixed once it exists: the kind decides which
report types the account receives by default and which upload column names it (employer or
claim payer), so a changed kind would silently change what its users see of reports already
routed. An account created with the wrong kind is deactivated and created again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import ACCOUNT_KINDS, Account, AccountMembership, RoleInvitation, User
from services import audit, clock
from services.errors import InvalidInput
from services.identity import role_invitations
from services.mail import addresses
from services.policy import Action, Grant, Role
from services.principals import Principal
from services.statuses import InvitationStatus
from services.transaction import transaction

KIND_LABELS = {"employer": "Employer", "payor": "Payor", "tpa": "TPA"}
NAME_TAKEN = "Another client account already has this name: choose a different name."
REF_TAKEN = "Another client account already has this external reference."
_LIMITS = {"name": ("account name", 200), "external_ref": ("external reference", 60),
           "contact_name": ("contact's name", 200), "contact_phone": ("contact's phone", 40)}


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    kind: str
    people: int
    external_ref: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    deactivated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


@dataclass(frozen=True)
class AccountDetails:
    """What a representative types for an account (the kind counts only when it is created)."""

    kind: str
    name: str
    external_ref: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class AccountPerson:
    user_id: int
    email: str
    name: str
    status: str
    role: str
    accounts: frozenset[int] = frozenset()  # every account the person belongs to


def accounts(db: Database, principal: Principal) -> list[AccountRow]:
    """Every client account (deactivated ones too), by kind and name, with how many people each has."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS)
        people = (select(AccountMembership.account_id, func.count().label("people"))
                  .group_by(AccountMembership.account_id).subquery())
        rows = session.execute(select(Account, people.c.people)
                               .outerjoin(people, people.c.account_id == Account.id)
                               .order_by(Account.kind, Account.name)).all()
    return [_row(account, count or 0) for account, count in rows]


def _row(account: Account, people: int) -> AccountRow:
    return AccountRow(account.id, account.name, account.kind, people, account.external_ref or "",
                      account.contact_name, account.contact_email, account.contact_phone,
                      account.deactivated_at)


def people_of(db: Database, principal: Principal, *, account_id: int) -> list[AccountPerson]:
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS, target_type="account", target_id=account_id)
        rows = session.execute(select(User.id, User.email, User.name, User.status,
                                      AccountMembership.role)
                               .join(AccountMembership, AccountMembership.user_id == User.id)
                               .where(AccountMembership.account_id == account_id)
                               .order_by(User.email)).all()
        held: dict[int, set[int]] = {}
        for user_id, held_id in session.execute(
                select(AccountMembership.user_id, AccountMembership.account_id)
                .where(AccountMembership.user_id.in_([row.id for row in rows]))):
            held.setdefault(user_id, set()).add(held_id)
    return [AccountPerson(*row, accounts=frozenset(held.get(row.id, ()))) for row in rows]


def _cleaned(details: AccountDetails) -> dict[str, str | None]:
    """The details as they are stored, or InvalidInput naming the first thing to fix."""
    values = {key: " ".join(str(value or "").split()) for key, value in asdict(details).items()}
    if values["kind"] not in ACCOUNT_KINDS:
        raise InvalidInput("Choose the kind of account: employer, payor or TPA.")
    if not values["name"]:
        raise InvalidInput("Enter the account's name.")
    if not values["contact_name"]:
        raise InvalidInput("Enter the name of the account's main contact.")
    if not values["contact_email"]:
        raise InvalidInput("Enter the main contact's email address.")
    for key, (words, limit) in _LIMITS.items():
        if len(values[key]) > limit:
            raise InvalidInput(f"The {words} is longer than {limit} characters.")
    try:
        values["contact_email"] = addresses.checked(values["contact_email"])
    except InvalidInput:
        raise InvalidInput("Enter a valid email address for the main contact, like "
                           "name@company.com.") from None
    values["external_ref"] = values["external_ref"] or None
    return values


def _check_unique(session: Session, values: dict, account_id: int | None) -> None:
    others = select(Account.id).where(Account.id != account_id) if account_id else select(Account.id)
    # Names differing only in capitals would read as the same customer on every screen.
    if session.scalar(others.where(func.lower(Account.name) == values["name"].lower())) is not None:
        raise InvalidInput(NAME_TAKEN)
    if values["external_ref"] is not None and session.scalar(
            others.where(Account.external_ref == values["external_ref"])) is not None:
        raise InvalidInput(REF_TAKEN)


def _flush(session: Session) -> None:
    """The unique indexes settle a race between two representatives typing the same name."""
    try:
        session.flush()
    except IntegrityError as error:
        raise InvalidInput(REF_TAKEN if "external_ref" in str(error.orig) else NAME_TAKEN) from None


def _snapshot(account: Account) -> dict:
    return {"name": account.name, "kind": account.kind, "external_ref": account.external_ref or "",
            "contact_name": account.contact_name, "contact_email": account.contact_email,
            "contact_phone": account.contact_phone,
            "status": "active" if account.deactivated_at is None else "deactivated"}


def _record(session: Session, principal: Principal, action: str, account: Account, now: datetime,
            **details) -> None:
    audit.record(session, action=action, actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="account", target_id=account.id,
                 now=now, details=details)


def create(db: Database, principal: Principal, *, details: AccountDetails,
           active: bool = True) -> int:
    """A new account; returns its id. `active=False` sets it up deactivated (nobody reaches it yet)."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS, target_type="account")
        values = _cleaned(details)
        _check_unique(session, values, None)
        account = Account(**values, created_at=now, deactivated_at=None if active else now)
        session.add(account)
        _flush(session)
        _record(session, principal, "account.created", account, now, after=_snapshot(account))
        return account.id


def _in_hand(session: Session, principal: Principal, account_id: int) -> Account:
    principal.require(Action.MANAGE_CLIENT_ACCOUNTS, target_type="account", target_id=account_id)
    account = session.get(Account, account_id)
    if account is None:
        raise InvalidInput("No such client account.")
    return account


def update_details(db: Database, principal: Principal, *, account_id: int,
                   details: AccountDetails) -> bool:
    """Change an account's name, external reference and main contact; False when nothing changed.
    The kind stays what it was (module docstring)."""
    now = clock.now()
    with transaction(db) as session:
        account = _in_hand(session, principal, account_id)
        values = _cleaned(details)
        if values.pop("kind") != account.kind:
            raise InvalidInput("An account's kind cannot change once it exists: deactivate this "
                               "account and create one of the right kind.")
        _check_unique(session, values, account.id)
        before = _snapshot(account)
        for key, value in values.items():
            setattr(account, key, value)
        after = _snapshot(account)
        if after == before:
            return False
        _flush(session)
        changed = [key for key in before if before[key] != after[key]]
        _record(session, principal, "account.changed", account, now,
                before={key: before[key] for key in changed},
                after={key: after[key] for key in changed})
        return True


def deactivate(db: Database, principal: Principal, *, account_id: int) -> int:
    """Take the account out of use at once; returns how many people lost access to it.

    Its people keep their memberships (and their other accounts); invitations to it that are
    still waiting are cancelled."""
    now = clock.now()
    with transaction(db) as session:
        account = _in_hand(session, principal, account_id)
        if account.deactivated_at is not None:
            raise InvalidInput("This account is already deactivated.")
        before = _snapshot(account)
        account.deactivated_at = now
        people = _people_count(session, account.id)
        cancelled = session.execute(
            update(RoleInvitation).where(RoleInvitation.account_id == account.id,
                                         RoleInvitation.status == InvitationStatus.PENDING)
            .values(status=InvitationStatus.CANCELLED, resolved_at=now)
            .execution_options(synchronize_session=False)).rowcount
        _record(session, principal, "account.deactivated", account, now,
                before={"status": before["status"]}, after={"status": "deactivated"},
                people_without_access=people, invitations_cancelled=cancelled)
        return people


def reactivate(db: Database, principal: Principal, *, account_id: int) -> int:
    """Put the account back in use: its people reach it again; returns how many they are."""
    now = clock.now()
    with transaction(db) as session:
        account = _in_hand(session, principal, account_id)
        if account.deactivated_at is None:
            raise InvalidInput("This account is already active.")
        account.deactivated_at = None
        people = _people_count(session, account.id)
        _record(session, principal, "account.reactivated", account, now,
                before={"status": "deactivated"}, after={"status": "active"},
                people_with_access=people)
        return people


def _people_count(session: Session, account_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AccountMembership)
                          .where(AccountMembership.account_id == account_id))


def invite_admin(db: Database, principal: Principal, *, account_id: int, email: str,
                 email_again: str, name: str) -> int:
    """Invite someone to be the account's Client account admin (through the role invitations:
    nothing is given until they accept); returns the invitation's id."""
    addresses.confirmed(email, email_again)
    with transaction(db, write=False) as session:
        account = _in_hand(session, principal, account_id)
        if account.deactivated_at is not None:
            raise InvalidInput("This account is deactivated: reactivate it before inviting "
                               "anyone to it.")
    return role_invitations.invite(db, principal, email=email, name=name,
                                   role=Grant(Role.ACCOUNT_ADMIN, account_id=account_id))
