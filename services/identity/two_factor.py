"""The second factor: a code from an authenticator app (TOTP, RFC 6238) or a recovery code.

A code is good for its 30-second step and one step either side (phones drift); each step is
accepted once per person, by a conditional UPDATE, so a code seen over a shoulder or replayed
by a second tab opens nothing. Recovery codes are ten random 80-bit codes shown once and
stored as SHA-256; each works once. Who must use a second factor is settings.two_factor_roles;
anyone else may turn it on in My account. Wrong codes count toward the same lockout as wrong
passwords (services/identity/auth.py).
"""

from __future__ import annotations

import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import RecoveryCode, SecondFactor, SignInChallenge, User
from services import audit, clock, principals, settings
from services.errors import DomainError, InvalidInput
from services.identity import tokens
from services.mail import account_emails
from services.principals import Principal
from services.transaction import transaction

ISSUER = "ResultsDesk"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
_RECOVERY_LENGTH = 16  # 16 characters of 32: 80 bits
CHALLENGE_LIFETIME = timedelta(minutes=10)
WRONG_CODE = ("That code did not work. Type the 6 digits your authenticator app shows now (each "
              "code works once: if you just used it, wait for the next), or one of your "
              "recovery codes.")
WRONG_ENROLMENT_CODE = ("That code did not work. Check that the app added ResultsDesk and type "
                        "the 6 digits it shows now.")


class ChallengeEnded(DomainError):
    """The step between password and code is over (used, replaced, expired or locked)."""

    MESSAGE = "This sign-in has ended. Sign in again with your email address and password."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


@dataclass(frozen=True)
class SecondStep:
    """What the sign-in screen asks next: a code ("code") or setting up the app ("enrol")."""

    challenge: str
    step: str


@dataclass(frozen=True)
class Enrolment:
    """What the person adds to their authenticator app: the QR code, or the key typed by hand."""

    secret: str
    uri: str
    qr_png: bytes


@dataclass(frozen=True)
class Status:
    """My account's view of one person's second factor."""

    enrolled: bool
    required: bool
    recovery_codes_left: int
    pending: Enrolment | None = None  # a set-up started and not yet confirmed


@dataclass(frozen=True)
class Checked:
    """A code that was accepted: by the app, or by a recovery code (with how many are left)."""

    by_recovery_code: bool
    recovery_codes_left: int


def required(session: Session, user: User) -> bool:
    """Whether one of the person's roles must use a second factor (settings.two_factor_roles)."""
    roles = principals.load(session, user).roles
    return bool({str(role) for role in roles} & settings.current().two_factor_roles)


def enrolled(session: Session, user_id: int) -> bool:
    return session.scalar(select(SecondFactor.user_id).where(
        SecondFactor.user_id == user_id, SecondFactor.confirmed_at.is_not(None))) is not None


def next_step(session: Session, user: User, *, now: datetime) -> SecondStep | None:
    """After a correct password: the step still to come, or None when the password is enough."""
    if enrolled(session, user.id):
        step = "code"
    elif required(session, user):
        step = "enrol"
        _new_secret(session, user.id, now)
    else:
        return None
    # A newer sign-in replaces one left half-way in another tab.
    session.execute(update(SignInChallenge)
                    .where(SignInChallenge.user_id == user.id, SignInChallenge.used_at.is_(None))
                    .values(used_at=now))
    raw, hashed = tokens.new_secret()
    session.add(SignInChallenge(user_id=user.id, challenge_hash=hashed, step=step, created_at=now,
                                expires_at=now + CHALLENGE_LIFETIME))
    return SecondStep(challenge=raw, step=step)


def open_challenge(session: Session, raw: str, *, steps: tuple[str, ...], now: datetime) -> SignInChallenge:
    """The live challenge this tab holds, at one of the given steps; ChallengeEnded otherwise."""
    row = session.scalar(select(SignInChallenge).where(
        SignInChallenge.challenge_hash == tokens.digest(raw or "")))
    if row is None or row.used_at is not None or row.expires_at <= now or row.step not in steps:
        raise ChallengeEnded()
    return row


def close_challenge(session: Session, row: SignInChallenge, *, now: datetime) -> None:
    """Use the challenge once; two tabs racing on it cannot both open a session."""
    closed = session.execute(update(SignInChallenge)
                             .where(SignInChallenge.id == row.id, SignInChallenge.used_at.is_(None))
                             .values(used_at=now)).rowcount
    if not closed:
        raise ChallengeEnded()


def move_challenge(session: Session, row: SignInChallenge, *, step: str) -> None:
    session.execute(update(SignInChallenge).where(SignInChallenge.id == row.id).values(step=step))


def enrolment_for(session: Session, user: User) -> Enrolment:
    """The pending (not yet confirmed) secret of the person, as the app takes it."""
    secret = session.scalar(select(SecondFactor.secret).where(
        SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_(None)))
    if secret is None:
        raise ChallengeEnded()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    picture = io.BytesIO()
    # Drawn here, shown as an image: the secret never goes to any other service.
    segno.make(uri, error="m").save(picture, kind="png", scale=6, border=2)
    return Enrolment(secret=secret, uri=uri, qr_png=picture.getvalue())


def check(session: Session, user_id: int, code: str, *, now: datetime) -> Checked | None:
    """Accept an app code (once per step) or an unused recovery code; None when it is neither."""
    typed = "".join((code or "").split()).replace("-", "").upper()
    if typed.isdigit() and len(typed) == 6:
        return _check_app_code(session, user_id, typed, now=now, confirmed=True)
    if len(typed) == _RECOVERY_LENGTH:
        return _use_recovery_code(session, user_id, typed, now=now)
    return None


def _check_app_code(session: Session, user_id: int, typed: str, *, now: datetime,
                    confirmed: bool) -> Checked | None:
    factor = session.scalar(select(SecondFactor).where(
        SecondFactor.user_id == user_id,
        SecondFactor.confirmed_at.is_not(None) if confirmed else SecondFactor.confirmed_at.is_(None)))
    if factor is None:
        return None
    step = _matching_step(factor.secret, typed, now)
    if step is None:
        return None
    accepted = session.execute(
        update(SecondFactor)
        .where(SecondFactor.user_id == user_id,
               or_(SecondFactor.last_used_step.is_(None), SecondFactor.last_used_step < step))
        .values(last_used_step=step)).rowcount
    return Checked(by_recovery_code=False, recovery_codes_left=-1) if accepted else None


def _matching_step(secret: str, typed: str, now: datetime) -> int | None:
    app = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(app.at(step * STEP_SECONDS), typed):
            return step
    return None


def _use_recovery_code(session: Session, user_id: int, typed: str, *, now: datetime) -> Checked | None:
    used = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == tokens.digest(typed),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)).rowcount
    if not used:
        return None
    return Checked(by_recovery_code=True, recovery_codes_left=codes_left(session, user_id))


def codes_left(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))


def confirm(session: Session, user_id: int, code: str, *, now: datetime) -> list[str] | None:
    """Confirm a pending secret with a code from the app: the new recovery codes, or None."""
    typed = "".join((code or "").split())
    if not (typed.isdigit() and len(typed) == 6):
        return None
    if _check_app_code(session, user_id, typed, now=now, confirmed=False) is None:
        return None
    session.execute(update(SecondFactor).where(SecondFactor.user_id == user_id)
                    .values(confirmed_at=now))
    return _new_recovery_codes(session, user_id, now)


def _new_secret(session: Session, user_id: int, now: datetime) -> None:
    """A fresh secret waiting for its first code (replacing an unconfirmed one)."""
    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user_id,
                                               SecondFactor.confirmed_at.is_(None)))
    session.add(SecondFactor(user_id=user_id, secret=pyotp.random_base32(32), created_at=now))
    session.flush()


def _new_recovery_codes(session: Session, user_id: int, now: datetime) -> list[str]:
    """Ten fresh codes; the earlier ones stop working. Returned once, stored hashed."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=tokens.digest(code), created_at=now)
                    for code in codes)
    return ["-".join(code[i:i + 4] for i in range(0, _RECOVERY_LENGTH, 4)) for code in codes]


def remove(session: Session, user_id: int) -> bool:
    """Forget the person's app and recovery codes; True if they had a confirmed app."""
    had = enrolled(session, user_id)
    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user_id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.execute(update(SignInChallenge)
                    .where(SignInChallenge.user_id == user_id, SignInChallenge.used_at.is_(None))
                    .values(used_at=clock.now()))
    return had


# --- the person's own choices on My account ------------------------------------------------------


def _me(session: Session, principal: Principal) -> User:
    return session.get(User, principal.user_id)


def status(db: Database, principal: Principal) -> Status:
    """Whether it is on, required, how many recovery codes are left, and a set-up waiting for
    its first code, read together."""
    with transaction(db, write=False) as session:
        user = _me(session, principal)
        on = enrolled(session, user.id)
        return Status(enrolled=on, required=required(session, user),
                      recovery_codes_left=codes_left(session, user.id),
                      pending=None if on else _pending(session, user))


def start_own(db: Database, principal: Principal) -> Enrolment:
    """A new secret for the person to add to their app; nothing changes until they confirm."""
    now = clock.now()
    with transaction(db) as session:
        user = _me(session, principal)
        if enrolled(session, user.id):
            raise InvalidInput("Two-factor sign-in is already on for your account.")
        _new_secret(session, user.id, now)
        return enrolment_for(session, user)


def _pending(session: Session, user: User) -> Enrolment | None:
    try:
        return enrolment_for(session, user)
    except ChallengeEnded:
        return None


def confirm_own(db: Database, principal: Principal, *, code: str) -> list[str]:
    """Turn two-factor sign-in on with a code from the app; returns the recovery codes (once)."""
    now = clock.now()
    with transaction(db) as session:
        user = _me(session, principal)
        codes = confirm(session, user.id, code, now=now)
        if codes is None:
            raise InvalidInput(WRONG_ENROLMENT_CODE)
        audit.record(session, action="two_factor.enrolled", actor_user_id=user.id,
                     actor_email=user.email, target_type="user", target_id=user.id, now=now)
        account_emails.account_changed(
            session, to=user.email, name=user.name, now=now,
            change="Two-factor sign-in is now on for your account: from now on you sign in with "
                   "your password and a code from your authenticator app.")
        return codes


def _require_own_code(session: Session, user: User, code: str, now: datetime) -> Checked:
    if not enrolled(session, user.id):
        raise InvalidInput("Two-factor sign-in is not on for your account.")
    checked = check(session, user.id, code, now=now)
    if checked is None:
        raise InvalidInput(WRONG_CODE)
    return checked


def turn_off_own(db: Database, principal: Principal, *, code: str) -> None:
    """Turn it off (only where no role requires it), proved with a current code."""
    now = clock.now()
    with transaction(db) as session:
        user = _me(session, principal)
        if required(session, user):
            raise InvalidInput("Your role requires two-factor sign-in, so it stays on. If you "
                               "lost your phone, sign in with a recovery code or ask support to "
                               "reset it.")
        _require_own_code(session, user, code, now)
        remove(session, user.id)
        audit.record(session, action="two_factor.turned_off", actor_user_id=user.id,
                     actor_email=user.email, target_type="user", target_id=user.id, now=now)
        account_emails.account_changed(
            session, to=user.email, name=user.name, now=now,
            change="Two-factor sign-in was turned off for your account: you sign in with your "
                   "password alone.")


def new_codes_own(db: Database, principal: Principal, *, code: str) -> list[str]:
    """Ten new recovery codes for the ten old ones, proved with a current code."""
    now = clock.now()
    with transaction(db) as session:
        user = _me(session, principal)
        _require_own_code(session, user, code, now)
        codes = _new_recovery_codes(session, user.id, now)
        audit.record(session, action="two_factor.recovery_codes_replaced", actor_user_id=user.id,
                     actor_email=user.email, target_type="user", target_id=user.id, now=now)
        return codes
