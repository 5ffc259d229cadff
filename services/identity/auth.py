"""Signing in and out.

Every failed sign-in looks the same from outside: one message, one bcrypt check, one audit
write, whether the email is unknown, the password wrong, or the account locked or deactivated.
The failure counter and the lock are changed with conditional UPDATEs, so sessions and
processes racing on one account still lock it after exactly
settings.failed_attempts_before_lock consecutive failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from db.engine import Database
from db.models import User
from services import audit, clock, principals, settings
from services.errors import SignInFailed, SignInLimited
from services.identity import passwords, session_handoff, sessions, sign_in_limits
from services.insight import portal_activity
from services.mail import account_emails, addresses
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction


@dataclass(frozen=True)
class SignedIn:
    token: str
    principal: Principal
    handoff_code: str  # what the browser trades for its HttpOnly cookie (services.identity.session_handoff)


def sign_in(db: Database, *, email: str, password: str, client_address: str | None = None) -> SignedIn:
    """Check the password exactly as typed; raise SignInFailed for every kind of refusal.

    With a client address, failures count against it too, and an address at its limit gets
    SignInLimited without its password being checked at all.
    """
    now = clock.now()
    address = addresses.normalise(email)
    with transaction(db, write=False) as session:
        limited = client_address is not None and sign_in_limits.is_limited(
            session, address=client_address, now=now)
        user = None if limited else session.scalars(select(User).where(User.email == address)).first()
    if limited:
        with transaction(db) as session:
            audit.record(session, action="sign_in.address_limited", outcome="denied",
                         details={"client_address": client_address}, now=now)
        raise SignInLimited()
    # The slow part happens outside any transaction, so a sign-in never holds a write lock.
    matched = passwords.verify_password(password, user.password_hash if user else None)

    with transaction(db) as session:
        if user is None:
            audit.record(session, action="sign_in", outcome="failure",
                         details={"reason": "unknown_user"}, now=now)
            failed = True
        else:
            failed = not _settle(session, user, matched, now)
        if not failed:
            token = sessions.start(session, user=user, now=now)
            session.flush()
            principal = principals.load(session, user, session_id=sessions.session_id(session, token))
            handoff_code = session_handoff.issue(session, session_id=principal.session_id, now=now)
            portal_activity.record_sign_in(session, principal, now=now)
        elif client_address is not None:
            sign_in_limits.record_failure(session, address=client_address, now=now)
    if failed:
        raise SignInFailed()
    return SignedIn(token=token, principal=principal, handoff_code=handoff_code)


def _settle(session, user: User, matched: bool, now) -> bool:
    """Apply one attempt to the account's counter and lock; True when the user is signed in."""
    who = {"actor_user_id": user.id, "actor_email": user.email, "target_type": "user",
           "target_id": user.id, "now": now}
    limits = settings.current()
    expired_lock = session.execute(
        update(User)
        .where(User.id == user.id, User.status == UserStatus.LOCKED, User.locked_until <= now)
        .values(status=UserStatus.ACTIVE, failed_attempts=0, locked_until=None)
    ).rowcount
    if expired_lock:
        audit.record(session, action="user.unlocked", details={"by": "lock period ended"},
                     **{**who, "actor_user_id": None, "actor_email": None})

    status = session.scalar(select(User.status).where(User.id == user.id))
    if status != UserStatus.ACTIVE or not matched:
        reason = {UserStatus.LOCKED: "locked", UserStatus.DEACTIVATED: "deactivated",
                  UserStatus.INVITED: "invited"}.get(
            status, "bad_password")
        counted, locked = (_count_failure(session, user, now, limits) if status == UserStatus.ACTIVE
                           else (False, False))
        if status == UserStatus.ACTIVE and not counted:
            reason = "locked"  # a parallel attempt locked the account first
        audit.record(session, action="sign_in", outcome="failure", details={"reason": reason}, **who)
        if locked:
            audit.record(session, action="user.locked",
                         details={"failed_attempts": limits.failed_attempts_before_lock,
                                  "locked_until": (now + limits.lockout_period).isoformat()}, **who)
            account_emails.account_locked(
                session, to=user.email, name=user.name, now=now,
                minutes=int(limits.lockout_period.total_seconds() // 60))
        return False

    # The hash must still be the one just checked: a password change in between wins.
    signed_in = session.execute(
        update(User)
        .where(User.id == user.id, User.status == UserStatus.ACTIVE, User.password_hash == user.password_hash)
        .values(failed_attempts=0, last_login_at=now)
    ).rowcount
    audit.record(session, action="sign_in", outcome="success" if signed_in else "failure",
                 details={} if signed_in else {"reason": "changed"}, **who)
    return bool(signed_in)


def _count_failure(session, user: User, now, limits) -> tuple[bool, bool]:
    """Count a failure against an active account and lock it at the limit: (counted, locked)."""
    counted = session.execute(update(User).where(User.id == user.id, User.status == UserStatus.ACTIVE)
                              .values(failed_attempts=User.failed_attempts + 1)).rowcount
    if not counted:
        return False, False
    locked = session.execute(
        update(User)
        .where(User.id == user.id, User.status == UserStatus.ACTIVE,
               User.failed_attempts >= limits.failed_attempts_before_lock)
        .values(status=UserStatus.LOCKED, locked_until=now + limits.lockout_period)
    ).rowcount
    return True, bool(locked)
