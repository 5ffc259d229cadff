"""Dormant accounts: an account nobody signs in to is deactivated, after a warning email.

`make dormant-accounts` (schedule it daily; `make run` runs it hourly inside the portal) does
two things for every active or locked account:

- it emails the holder once when the account is seven days (settings.DORMANT_WARNING) from its
  limit, and
- it deactivates the account at its limit, ending its sessions as an administrator's
  deactivation does, audited as "Account deactivated for disuse", and emails the holder.

The limit is RESULTSDESK_DORMANT_DAYS (90 days), or RESULTSDESK_DORMANT_STAFF_DAYS (45 days)
for anyone holding a staff role or an admin role (provider group admin, provider admin, account
admin): those accounts reach the most people and patients. It counts from the latest of the
last sign-in, the moment the account became usable (invitation accepted, reactivated by an
administrator: users.active_since) and its creation. So an account that never signed in counts
from its activation, and a reactivated account has a whole limit for its holder to sign in.

An account is deactivated only after its warning has been out for seven days: a warning from
before the latest sign-in or reactivation no longer counts, and if the job did not run for a
while the deactivation waits until a warning has had its seven days. The portal's last active
system admin is warned but never deactivated (nobody could reactivate anyone then).

Safe on several replicas at once: each warning and each deactivation is a conditional UPDATE
that repeats the whole rule, so of two runs only one changes a row, and only that one emails
and audits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update

from db.engine import Database
from db.models import AccountMembership, Membership, StaffRole, User
from services import audit, clock, settings
from services.identity import sessions
from services.mail import account_emails
from services.policy import Role
from services.statuses import UserStatus
from services.transaction import transaction

# Accounts the rule applies to: an invited person has no password yet (the invitation expires
# by itself) and a deactivated account has nothing left to deactivate.
_CHECKED = (UserStatus.ACTIVE, UserStatus.LOCKED)
_ADMIN_PROVIDER_ROLES = (Role.PROVIDER_GROUP_ADMIN, Role.PROVIDER_ADMIN)
_BATCH = 500


@dataclass(frozen=True)
class DormancyRun:
    warned: int
    deactivated: int


def limits() -> tuple[timedelta, timedelta]:
    """(everyone, staff and admins); the staff limit never exceeds everyone's."""
    now = settings.current()
    return now.dormant_after, min(now.dormant_after_staff, now.dormant_after)


def run(db: Database, *, now: datetime | None = None) -> DormancyRun:
    """Warn the accounts seven days from their limit and deactivate those at it."""
    now = now or clock.now()
    everyone, staff = limits()
    warn_rule = and_(_dormant(now - everyone + settings.DORMANT_WARNING,
                              now - staff + settings.DORMANT_WARNING),
                     not_(_warning_stands()))
    deactivate_rule = and_(_dormant(now - everyone, now - staff), _warning_stands(),
                           User.dormant_warned_at <= now - settings.DORMANT_WARNING)
    warned = sum(_warn(db, user_id, warn_rule, now) for user_id in _matching(db, warn_rule))
    deactivated = sum(_deactivate(db, user_id, deactivate_rule, now)
                      for user_id in _matching(db, deactivate_rule))
    return DormancyRun(warned=warned, deactivated=deactivated)


def _matching(db: Database, rule: ColumnElement[bool]) -> list[int]:
    found: list[int] = []
    after = 0
    while True:
        with transaction(db, write=False) as session:
            batch = session.scalars(select(User.id).where(User.status.in_(_CHECKED), rule,
                                                          User.id > after)
                                    .order_by(User.id).limit(_BATCH)).all()
        found += batch
        if len(batch) < _BATCH:
            return found
        after = batch[-1]


def _quiet_since(cutoff: datetime) -> ColumnElement[bool]:
    """No sign-in, activation or creation after the cutoff."""
    return and_(or_(User.last_login_at.is_(None), User.last_login_at <= cutoff),
                or_(User.active_since.is_(None), User.active_since <= cutoff),
                User.created_at <= cutoff)


def _staff_or_admin() -> ColumnElement[bool]:
    return or_(exists().where(StaffRole.user_id == User.id),
               exists().where(Membership.user_id == User.id,
                              Membership.role.in_(_ADMIN_PROVIDER_ROLES)),
               exists().where(AccountMembership.user_id == User.id,
                              AccountMembership.role == Role.ACCOUNT_ADMIN))


def _dormant(everyone_cutoff: datetime, staff_cutoff: datetime) -> ColumnElement[bool]:
    return or_(_quiet_since(everyone_cutoff), and_(_staff_or_admin(), _quiet_since(staff_cutoff)))


def _warning_stands() -> ColumnElement[bool]:
    """A warning was sent after the latest sign-in, activation and creation."""
    warned = User.dormant_warned_at
    return and_(warned.is_not(None),
                or_(User.last_login_at.is_(None), User.last_login_at <= warned),
                or_(User.active_since.is_(None), User.active_since <= warned),
                User.created_at <= warned)


def _claim(session, user_id: int, rule: ColumnElement[bool], **values) -> bool:
    return bool(session.execute(
        update(User).where(User.id == user_id, User.status.in_(_CHECKED), rule).values(**values)
        .execution_options(synchronize_session=False)).rowcount)


def _warn(db: Database, user_id: int, rule: ColumnElement[bool], now: datetime) -> int:
    with transaction(db) as session:
        if not _claim(session, user_id, rule, dormant_warned_at=now):
            return 0  # another run warned them first, or they signed in meanwhile
        user = session.get(User, user_id)
        audit.record(session, action="user.dormant_warned", target_type="user", target_id=user_id,
                     details={"days_left": settings.DORMANT_WARNING.days}, now=now)
        account_emails.dormant_warning(session, to=user.email, name=user.name,
                                       days=settings.DORMANT_WARNING.days, now=now)
        return 1


def _deactivate(db: Database, user_id: int, rule: ColumnElement[bool], now: datetime) -> int:
    with transaction(db) as session:
        user = session.get(User, user_id)
        if _last_system_admin(db, session, user_id):
            return 0
        old_status = user.status
        if not _claim(session, user_id, rule, status=UserStatus.DEACTIVATED, locked_until=None):
            return 0
        ended = sessions.end_all_for_user(session, user_id=user_id, reason="deactivated", now=now)
        everyone, staff = limits()
        last_seen = user.last_login_at
        audit.record(session, action="user.deactivated_dormant", target_type="user",
                     target_id=user_id, now=now,
                     details={"sessions_ended": ended, "old_status": old_status,
                              "new_status": UserStatus.DEACTIVATED,
                              "last_sign_in": last_seen.isoformat() if last_seen else "never",
                              "limit_days": (staff if _is_staff_or_admin(session, user_id)
                                             else everyone).days})
        account_emails.dormant_deactivated(session, to=user.email, name=user.name, now=now)
        return 1


def _is_staff_or_admin(session, user_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)
                               .where(User.id == user_id, _staff_or_admin())))


def _last_system_admin(db: Database, session, user_id: int) -> bool:
    """Whether this account is the portal's only active system admin (kept, or nobody could
    administer the portal). Two runs deactivating two admins take turns here."""
    if session.scalar(select(StaffRole.user_id).where(
            StaffRole.user_id == user_id, StaffRole.role == Role.SYSTEM_ADMIN)) is None:
        return False
    db.serialise(session, "dormant system admins")
    others = session.scalar(select(func.count()).select_from(StaffRole)
                            .join(User, User.id == StaffRole.user_id)
                            .where(StaffRole.role == Role.SYSTEM_ADMIN, StaffRole.user_id != user_id,
                                   User.status.in_(_CHECKED)))
    return not others
