"""Account-wide actions on users: find, unlock, deactivate, reactivate, end sessions, first admin.

Full user administration (invitations, memberships, roles) builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import AuditEvent, ReportRead, StaffRole, User
from services import audit, clock, principals, reach
from services.errors import InvalidInput, NotFound
from services.identity import password_policy, passwords, sessions
from services.mail import account_emails, addresses
from services.policy import Action, Role
from services.principals import Principal
from services.reach import UserReach
from services.statuses import UserStatus
from services.transaction import transaction

LOCKED_LIST_LIMIT = 50


@dataclass(frozen=True)
class UserSummary:
    id: int
    email: str
    name: str
    status: str
    failed_attempts: int
    locked_until: datetime | None
    last_login_at: datetime | None
    roles: tuple[str, ...]


def role_names(person: UserReach) -> tuple[str, ...]:
    return tuple(sorted({str(r) for r in person.staff_roles}
                        | {str(r) for *_, r in person.provider_links}
                        | {str(r) for r in person.account_roles}))


def _summary(user: User, person: UserReach) -> UserSummary:
    return UserSummary(user.id, user.email, user.name, user.status, user.failed_attempts,
                       user.locked_until, user.last_login_at, role_names(person))


def _user_in_scope(session: Session, principal: Principal, action: Action, user_id: int) -> User:
    principal.require(action, target_type="user", target_id=user_id)
    user = session.get(User, user_id)
    # An unknown id is refused like an out-of-scope one, so ids cannot be probed.
    if user is None or not reach.may_manage_user(principal, reach.of_user(session, user_id)):
        raise principal.denied(action, target_type="user", target_id=user_id)
    return user


def find_by_email(db: Database, principal: Principal, *, email: str) -> UserSummary:
    """One user by exact email, if the acting admin's scope covers them."""
    address = addresses.normalise(email)
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS, target_type="user")
        user = session.scalars(select(User).where(User.email == address)).first()
        if user is not None and reach.may_manage_user(principal, reach.of_user(session, user.id)):
            return _summary(user, reach.of_user(session, user.id))
    # Out of scope and unknown read the same to the admin, so nobody can probe other clinics'
    # users; the audit trail still records the refused lookup.
    audit.record_denial(db, principal.denied(Action.MANAGE_USERS, target_type="user",
                                             target_id=None if user is None else user.id))
    raise NotFound("No user with that email address in your scope.")


def locked_users(db: Database, principal: Principal) -> list[UserSummary]:
    """Locked accounts the acting user may unlock, most recently locked first (at most 50)."""
    with transaction(db, write=False) as session:
        principal.require(Action.UNLOCK_USERS, target_type="user")
        now = clock.now()
        query = select(User).where(User.status == UserStatus.LOCKED, User.locked_until > now)
        query = query.where(reach.user_condition(principal))
        # Streamed: the SQL narrows to users who share a group, provider or account with the
        # admin; may_manage_user then decides each one exactly.
        found = session.scalars(query.order_by(User.locked_until.desc()).execution_options(yield_per=100))
        result = []
        for user in found:
            person = reach.of_user(session, user.id)
            if reach.may_manage_user(principal, person):
                result.append(_summary(user, person))
            if len(result) == LOCKED_LIST_LIMIT:
                break
        return result


def unlock(db: Database, principal: Principal, *, user_id: int) -> None:
    with transaction(db) as session:
        user = _user_in_scope(session, principal, Action.UNLOCK_USERS, user_id)
        changed = session.execute(update(User).where(User.id == user.id, User.status == UserStatus.LOCKED)
                                  .values(status=UserStatus.ACTIVE, failed_attempts=0, locked_until=None)).rowcount
        if not changed:
            raise InvalidInput("That account is not locked.")
        audit.record(session, action="user.unlocked", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"by": "administrator", "old_status": UserStatus.LOCKED,
                              "new_status": UserStatus.ACTIVE})


def deactivate(db: Database, principal: Principal, *, user_id: int) -> None:
    """Stop a user from signing in and end every session they have open."""
    now = clock.now()
    with transaction(db) as session:
        user = _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        if user.id == principal.user_id:
            raise InvalidInput("You cannot deactivate your own account.")
        if user.status == UserStatus.DEACTIVATED:
            raise InvalidInput("That account is already deactivated.")
        old_status = user.status
        user.status, user.locked_until = UserStatus.DEACTIVATED, None
        ended = sessions.end_all_for_user(session, user_id=user.id, reason="deactivated", now=now)
        audit.record(session, action="user.deactivated", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"sessions_ended": ended, "old_status": old_status,
                              "new_status": UserStatus.DEACTIVATED}, now=now)
        account_emails.account_changed(session, to=user.email, name=user.name, now=now,
                                       change="Your ResultsDesk account was deactivated.")


def reactivate(db: Database, principal: Principal, *, user_id: int) -> None:
    with transaction(db) as session:
        user = _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        if user.status != UserStatus.DEACTIVATED:
            raise InvalidInput("That account is not deactivated.")
        # The dormant-account limit counts afresh from now, so the next scheduled run leaves
        # the account alone until its holder has had a whole limit to sign in.
        user.status, user.failed_attempts, user.active_since = UserStatus.ACTIVE, 0, clock.now()
        audit.record(session, action="user.reactivated", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"old_status": UserStatus.DEACTIVATED, "new_status": UserStatus.ACTIVE})
        account_emails.account_changed(session, to=user.email, name=user.name, now=clock.now(),
                                       change="Your ResultsDesk account was reactivated.")


def end_sessions(db: Database, principal: Principal, *, user_id: int) -> int:
    """Sign a user out everywhere (an admin action, or a user's own 'sign out everywhere')."""
    now = clock.now()
    with transaction(db) as session:
        if user_id != principal.user_id:
            _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        ended = sessions.end_all_for_user(session, user_id=user_id, reason="ended_by_request", now=now)
        audit.record(session, action="sessions.ended", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user_id,
                     details={"sessions_ended": ended}, now=now)
        return ended


def acting_as(db: Database, *, email: str) -> Principal | None:
    """An active user's principal, for a command that acts as that user (a clinic's feed)."""
    with transaction(db, write=False) as session:
        user = session.scalar(select(User).where(User.email == addresses.normalise(email),
                                                 User.status == UserStatus.ACTIVE))
        return None if user is None else principals.load(session, user)


def sole_system_admin(db: Database) -> str | None:
    """The address of the portal's one active system admin; None when there are none or several
    (a command that acts as someone then has to be told who)."""
    with transaction(db, write=False) as session:
        admins = session.scalars(
            select(User.email).join(StaffRole, StaffRole.user_id == User.id)
            .where(StaffRole.role == Role.SYSTEM_ADMIN, User.status == UserStatus.ACTIVE)
            .limit(2)).all()
    return admins[0] if len(admins) == 1 else None


def system_admin_exists(session: Session) -> bool:
    return session.scalars(select(StaffRole).where(StaffRole.role == Role.SYSTEM_ADMIN).limit(1)).first() is not None


def has_system_admin(db: Database) -> bool:
    """Whether anyone can administer the portal yet (the startup command's hint)."""
    with transaction(db, write=False) as session:
        return system_admin_exists(session)


def create_first_admin(db: Database, *, email: str, name: str, password: str) -> int:
    """Create a system admin from the command line; refused once any system admin exists."""
    address = addresses.checked(email)
    if not name.strip():
        raise InvalidInput("An email address and a name are required.")
    password_policy.check(password, email=address, name=name)
    password_hash = passwords.hash_password(password)
    now = clock.now()
    with transaction(db) as session:
        db.serialise(session, "first system admin")
        if system_admin_exists(session):
            raise InvalidInput("A system admin already exists; ask them to add more.")
        if session.scalars(select(User).where(User.email == address)).first():
            raise InvalidInput("A user with that email address already exists.")
        user = User(email=address, name=name.strip(), password_hash=password_hash, status=UserStatus.ACTIVE,
                    created_at=now)
        session.add(user)
        session.flush()
        session.add(StaffRole(user_id=user.id, role=Role.SYSTEM_ADMIN))
        audit.record(session, action="user.created", actor_user_id=None, target_type="user",
                     target_id=user.id, details={"role": "system_admin", "via": "command line"},
                     now=now)
        return user.id


def update_contact(db: Database, principal: Principal, *, user_id: int, name: str,
                   phone: str) -> None:
    """Change a user's name and phone (the email is the user id and stays)."""
    name, phone = name.strip(), phone.strip()
    if not name or len(name) > 200:
        raise InvalidInput("Enter a name (at most 200 characters).")
    if len(phone) > 40 or any(c not in "0123456789+-() .x" for c in phone):
        raise InvalidInput("A phone number has at most 40 digits, spaces and + - ( ) . x.")
    with transaction(db) as session:
        user = _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        changed = [field for field, old, new in (("name", user.name, name), ("phone", user.phone, phone))
                   if old != new]
        if not changed:
            return
        user.name, user.phone = name, phone
        audit.record(session, action="user.contact_changed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"changed": changed})


def _has_history(session: Session, user: User) -> bool:
    """Signed in, acted in the audit trail or opened a report: kept, never deleted."""
    return (user.last_login_at is not None or session.scalar(
        select(AuditEvent.id).where(AuditEvent.actor_user_id == user.id).limit(1)) is not None
        or session.scalar(select(ReportRead.user_id).where(ReportRead.user_id == user.id)
                          .limit(1)) is not None)


def can_be_deleted(db: Database, principal: Principal, *, user_id: int) -> bool:
    """Whether Delete would delete this person (no history to keep) rather than deactivate them."""
    with transaction(db, write=False) as session:
        user = _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        return not _has_history(session, user)


def delete(db: Database, principal: Principal, *, user_id: int) -> None:
    """Delete a user with no history; refused for anyone whose history must be kept."""
    with transaction(db) as session:
        user = _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        if user.id == principal.user_id:
            raise InvalidInput("You cannot delete your own account.")
        if _has_history(session, user):
            raise InvalidInput("This person has signed in or acted in the portal, so their "
                               "history is kept: deactivate them instead.")
        session.delete(user)
        audit.record(session, action="user.deleted", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user_id,
                     details={"status": user.status})


def delete_or_deactivate(db: Database, principal: Principal, *, user_id: int) -> str:
    """Delete a user who never did anything that must be kept; otherwise deactivate them.

    Kept: anyone who ever signed in, opened a report, or acted in the audit trail. An
    invitation nobody accepted can go. Returns "deleted" or "deactivated".
    """
    with transaction(db, write=False) as session:
        user = _user_in_scope(session, principal, Action.MANAGE_USERS, user_id)
        keep = _has_history(session, user)
    if keep:
        deactivate(db, principal, user_id=user_id)
        return "deactivated"
    delete(db, principal, user_id=user_id)
    return "deleted"
