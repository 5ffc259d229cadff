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
from services.errors import DomainError, SignInFailed, SignInLimited
from services.identity import passwords, session_handoff, sessions, sign_in_limits, two_factor
from services.insight import portal_activity
from services.mail import account_emails, addresses
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction
from services.wording import count


@dataclass(frozen=True)
class SignedIn:
    token: str
    principal: Principal
    handoff_code: str  # what the browser trades for its HttpOnly cookie (services.identity.session_handoff)


def sign_in(db: Database, *, email: str, password: str,
            client_address: str | None = None) -> SignedIn | two_factor.SecondStep:
    """Check the password exactly as typed; raise SignInFailed for every kind of refusal.

    A person with a second factor (or whose role requires one) gets the step still to come
    instead of a session: finish_with_code, or enrolment then confirm_enrolment.
    With a client address, failures count against it too, and an address at its limit gets
    SignInLimited without its password being checked at all.
    """
    now = clock.now()
    address = addresses.normalise(email)
    with transaction(db, write=False) as session:
        limited = _limited(session, client_address, now)
        user = None if limited else session.scalars(select(User).where(User.email == address)).first()
    if limited:
        _refuse_limited(db, client_address, now)
    # The slow part happens outside any transaction, so a sign-in never holds a write lock.
    matched = passwords.verify_password(password, user.password_hash if user else None)

    with transaction(db) as session:
        if user is None:
            audit.record(session, action="sign_in", outcome="failure",
                         details={"reason": "unknown_user"}, now=now)
            outcome = None
        else:
            outcome = _settle(session, user, matched, now)
        if isinstance(outcome, User):
            outcome = open_session(session, user, now=now)
        elif outcome is None and client_address is not None:
            sign_in_limits.record_failure(session, address=client_address, now=now)
    if outcome is None:
        raise SignInFailed()
    if outcome is _STAFF_USE_IDENTITY_PROVIDER:
        raise StaffPasswordOff()
    return outcome


class StaffPasswordOff(SignInFailed):
    """Staff sign in through the company's identity provider (settings.staff_password_sign_in).
    Said only after the right password, so it tells nothing to someone guessing."""

    MESSAGE = "Staff sign in with Staff sign-in (your company account), not a password."


class SecondFactorFailed(DomainError):
    """A wrong code; `ended` when the sign-in is over (locked) and starts again with the password."""

    def __init__(self, message: str, *, ended: bool = False) -> None:
        self.ended = ended
        super().__init__(message)


_STAFF_USE_IDENTITY_PROVIDER = object()


def _limited(session, client_address: str | None, now) -> bool:
    return client_address is not None and sign_in_limits.is_limited(session, address=client_address,
                                                                    now=now)


def _refuse_limited(db: Database, client_address: str | None, now) -> None:
    with transaction(db) as session:
        audit.record(session, action="sign_in.address_limited", outcome="denied",
                     details={"client_address": client_address}, now=now)
    raise SignInLimited()


def open_session(session, user: User, *, now) -> SignedIn:
    """Start the server-side session of someone who has just proved who they are (password,
    second factor or the staff identity provider), in the caller's transaction."""
    token = sessions.start(session, user=user, now=now)
    session.flush()
    principal = principals.load(session, user, session_id=sessions.session_id(session, token))
    handoff_code = session_handoff.issue(session, session_id=principal.session_id, now=now)
    portal_activity.record_sign_in(session, principal, now=now)
    return SignedIn(token=token, principal=principal, handoff_code=handoff_code)


def _who(user: User, now) -> dict:
    return {"actor_user_id": user.id, "actor_email": user.email, "target_type": "user",
            "target_id": user.id, "now": now}


def _settle(session, user: User, matched: bool, now):
    """Apply one password attempt to the account's counter and lock.

    Returns the user when the password alone signs them in, the second step when a code is
    still to come, _STAFF_USE_IDENTITY_PROVIDER, or None for a failure."""
    who = _who(user, now)
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
            _locked(session, user, now, limits)
        return None

    if not limits.staff_password_sign_in and principals.load(session, user).is_staff:
        audit.record(session, action="sign_in", outcome="failure",
                     details={"reason": "staff_password_off"}, **who)
        return _STAFF_USE_IDENTITY_PROVIDER
    second_step = two_factor.next_step(session, user, now=now)
    # The hash must still be the one just checked: a password change in between wins. The
    # failure count starts again only when the whole sign-in succeeds, so a known password
    # does not buy more guesses at the code.
    unchanged = session.execute(
        update(User)
        .where(User.id == user.id, User.status == UserStatus.ACTIVE, User.password_hash == user.password_hash)
        .values(**({"failed_attempts": User.failed_attempts} if second_step
                   else {"failed_attempts": 0, "last_login_at": now}))
    ).rowcount
    if not unchanged:
        audit.record(session, action="sign_in", outcome="failure", details={"reason": "changed"}, **who)
        return None
    if second_step is not None:
        audit.record(session, action="sign_in.password_accepted",
                     details={"next": second_step.step}, **who)
        return second_step
    audit.record(session, action="sign_in", outcome="success", details={}, **who)
    return user


def _locked(session, user: User, now, limits) -> None:
    audit.record(session, action="user.locked",
                 details={"failed_attempts": limits.failed_attempts_before_lock,
                          "locked_until": (now + limits.lockout_period).isoformat()}, **_who(user, now))
    account_emails.account_locked(session, to=user.email, name=user.name, now=now,
                                  minutes=int(limits.lockout_period.total_seconds() // 60))


# --- the second step: a code, or setting up the authenticator app -------------------------------


def enrolment(db: Database, *, challenge: str) -> two_factor.Enrolment:
    """What the person adds to their authenticator app during a sign-in that requires it."""
    with transaction(db, write=False) as session:
        row = two_factor.open_challenge(session, challenge, steps=("enrol",), now=clock.now())
        return two_factor.enrolment_for(session, session.get(User, row.user_id))


def finish_with_code(db: Database, *, challenge: str, code: str,
                     client_address: str | None = None) -> SignedIn:
    """The code from the app (or a recovery code) after the password: the session, or
    SecondFactorFailed (counted toward the lockout like a wrong password)."""
    return _second_step(db, challenge, code, client_address, step="code")


def confirm_enrolment(db: Database, *, challenge: str, code: str,
                      client_address: str | None = None) -> list[str]:
    """The first code from a newly added app: the recovery codes, shown once. The session opens
    with enter_after_enrolment, after the person has kept them."""
    return _second_step(db, challenge, code, client_address, step="enrol")


def enter_after_enrolment(db: Database, *, challenge: str) -> SignedIn:
    now = clock.now()
    with transaction(db) as session:
        row = two_factor.open_challenge(session, challenge, steps=("enrolled",), now=now)
        user = session.get(User, row.user_id)
        two_factor.close_challenge(session, row, now=now)
        if not _sign_in_completed(session, user, now, {"second_factor": "enrolled"}):
            raise two_factor.ChallengeEnded()
        return open_session(session, user, now=now)


def _sign_in_completed(session, user: User, now, details: dict) -> bool:
    done = session.execute(update(User).where(User.id == user.id, User.status == UserStatus.ACTIVE)
                           .values(failed_attempts=0, last_login_at=now)).rowcount
    audit.record(session, action="sign_in", outcome="success" if done else "failure",
                 details=details if done else {"reason": "status_changed"}, **_who(user, now))
    return bool(done)


def _second_step(db: Database, challenge: str, code: str, client_address: str | None, *, step: str):
    now = clock.now()
    limits = settings.current()
    with transaction(db, write=False) as session:
        limited = _limited(session, client_address, now)
    if limited:
        _refuse_limited(db, client_address, now)
    failure = None
    with transaction(db) as session:
        row = two_factor.open_challenge(session, challenge, steps=(step,), now=now)
        user = session.get(User, row.user_id)
        if step == "code":
            checked = two_factor.check(session, user.id, code, now=now)
            accepted = checked is not None
        else:
            codes = two_factor.confirm(session, user.id, code, now=now)
            accepted = codes is not None
        if not accepted:
            counted, locked = _count_failure(session, user, now, limits)
            audit.record(session, action="sign_in", outcome="failure",
                         details={"reason": "bad_code" if counted else "locked"}, **_who(user, now))
            if client_address is not None:
                sign_in_limits.record_failure(session, address=client_address, now=now)
            if locked:
                _locked(session, user, now, limits)
            if locked or not counted:
                two_factor.close_challenge(session, row, now=now)
                failure = SecondFactorFailed(_locked_message(limits), ended=True)
            else:
                failure = SecondFactorFailed(two_factor.WRONG_CODE if step == "code"
                                             else two_factor.WRONG_ENROLMENT_CODE)
        elif step == "enrol":
            two_factor.move_challenge(session, row, step="enrolled")
            audit.record(session, action="two_factor.enrolled", **_who(user, now))
            account_emails.account_changed(
                session, to=user.email, name=user.name, now=now,
                change="Two-factor sign-in is now on for your account: you sign in with your "
                       "password and a code from your authenticator app.")
            result = codes
        else:
            two_factor.close_challenge(session, row, now=now)
            how = "recovery_code" if checked.by_recovery_code else "app"
            if not _sign_in_completed(session, user, now, {"second_factor": how}):
                failure = two_factor.ChallengeEnded()
            else:
                if checked.by_recovery_code:
                    account_emails.recovery_code_used(session, to=user.email, name=user.name,
                                                      left=checked.recovery_codes_left, now=now)
                result = open_session(session, user, now=now)
    if failure is not None:
        raise failure
    return result


def _locked_message(limits) -> str:
    minutes = int(limits.lockout_period.total_seconds() // 60)
    return (f"Your account is locked after {count(limits.failed_attempts_before_lock)} "
            f"unsuccessful attempts. It unlocks by itself after {minutes} minutes; support can "
            "unlock it sooner.")


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
