"""Registering a provider group: support issues a code for a facility's NPI; the facility's first
person enters NPI and code, creates their account, accepts the terms and becomes group admin.

Codes. Sixteen characters in four groups from an alphabet without 0/O and 1/I (80 bits, from
`secrets`), shown once to the support rep and stored only as the SHA-256 of the code upper-cased
with spaces and dashes removed, so "abcd efgh ..." typed loosely still matches. A code works once,
expires after settings.registration_code_lifetime (30 days by default), and issuing a new code
for an NPI supersedes the unused, unexpired ones issued before. No code is issued for an NPI that
a provider group or provider already has.

One message. An unknown code, a code for another NPI, a used, expired or superseded code all
get NO_MATCH, so the answer never says which part was wrong. Each of these failed checks is
audited as 'registration.failed' with outcome 'failure' (target the NPI; details hold a reason,
never the code or the password).

Throttling. Before the code is looked at, the failed checks of the last 15 minutes are counted
from the audit trail: after ATTEMPTS_ALLOWED for one NPI, or GLOBAL_FAILURES_ALLOWED across all
NPIs (a spray over many facilities), the attempt is refused with TOO_MANY without checking the
code at all, and audited as 'registration.failed' with outcome 'denied'. Refusals are not
counted themselves, so someone who keeps retrying gets in 15 minutes after the last real
failure instead of being locked out for as long as they retry. The counts are read, not locked:
two attempts racing at the limit may both be checked, which 80-bit codes make harmless. Anyone
can hold back one NPI's registration for 15 minutes by failing on purpose (NPIs are public); the
remedy is to wait, or support registers the facility.

Existing email. An address that already has an account is told so ("sign in, or use Forgot
password"), as sign-up forms commonly do: a second account for the same person is worse than
the disclosure. The check runs only after the NPI and code have matched, so only someone
holding a valid, unused code for that NPI can learn whether an address has an account; with a
wrong code the answer is NO_MATCH whatever the email. The refusal is audited (outcome 'denied',
not counted) and the code stays unused.

Form errors (terms not accepted, an email that does not look like an address, a weak password,
an NPI that is not 10 digits with a valid check digit) are answered before anything is read or
written and are not audited: they say nothing about any code.

Success writes, in one transaction serialised per NPI: the code marked used (a conditional
UPDATE on `used_at IS NULL`, so of two registrations racing with one code exactly one wins),
the provider group and one provider (the facility, same name and NPI), the active user with
their terms acceptance, their provider_group_admin membership, and 'provider_group.registered'
(actor: the new user). Nobody is signed in: the person signs in next.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import (
    AuditEvent,
    Membership,
    Provider,
    ProviderGroup,
    RegistrationCode,
    User,
)
from services import audit, clock, settings
from services.errors import InvalidInput
from services.identity import password_policy, passwords, terms
from services.mail import addresses
from services.organizations import npi
from services.policy import Action, Role
from services.principals import Principal
from services.statuses import CodeState, UserStatus
from services.transaction import transaction
from services.wording import period

NO_MATCH = ("The NPI and registration code do not match a valid registration. Check both, or "
            "ask support for a new code.")
ATTEMPT_WINDOW = timedelta(minutes=15)
TOO_MANY = f"Too many attempts; try again in {period(ATTEMPT_WINDOW, 'minutes')}."
EMAIL_TAKEN = "An account with this email already exists: sign in, or use Forgot password."
ATTEMPTS_ALLOWED = 5  # failed code checks per NPI in the window; the next attempt is refused
GLOBAL_FAILURES_ALLOWED = 100  # failed code checks across all NPIs in the window
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O, 1/I: read aloud over the phone
_GROUPS, _GROUP_LENGTH = 4, 4  # 16 symbols of 5 bits: 80 bits
_FAILED = "registration.failed"
STATES = tuple(CodeState)


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str  # the only time the code exists outside the support rep's hands
    expires_at: datetime


@dataclass(frozen=True)
class CodeRow:
    """One code as the Registration codes page lists it (never the code itself)."""

    id: int
    npi: str
    facility_name: str
    issued_by: str  # the issuer's email, "" if that user is gone
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    state: str  # one of STATES


def normalise_code(code: str) -> str:
    """The code as hashed: upper-case, without spaces, dashes or other separators."""
    return "".join(c for c in code.upper() if c.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()


def _new_code() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH))
                    for _ in range(_GROUPS))


def _valid_npi(value: str) -> str:
    value = (value or "").strip()
    if not npi.is_valid(value):
        raise InvalidInput("Enter the facility's NPI: 10 digits, the last a check digit. "
                           "This number is not a valid NPI; check it.")
    return value


def _npi_taken(session: Session, number: str) -> str | None:
    """Why this NPI cannot register a group (it has one, or a provider has it), or None."""
    if session.scalar(select(ProviderGroup.id).where(ProviderGroup.npi == number)):
        return "A provider group with this NPI is already registered."
    group = session.scalar(select(ProviderGroup.name).join(Provider, Provider.group_id == ProviderGroup.id)
                           .where(Provider.npi == number))
    if group is not None:
        return f"This NPI is already registered as a provider of {group}."
    return None


def issue_code(db: Database, principal: Principal, *, npi_number: str,
               facility_name: str) -> IssuedCode:
    """A new code for a facility, shown once; earlier unused codes for that NPI stop working."""
    raw_npi = (npi_number or "").strip()
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.ISSUE_REGISTRATION_CODES, target_type="npi",
                          target_id=raw_npi if npi.is_valid(raw_npi) else None)
        number, name = _valid_npi(raw_npi), " ".join((facility_name or "").split())
        if not 2 <= len(name) <= 200:
            raise InvalidInput("Enter the facility's name (2 to 200 characters).")
        db.serialise(session, f"registration:{number}")  # two reps issuing at once: one code lives
        taken = _npi_taken(session, number)
        if taken:
            raise InvalidInput(taken)
        superseded = session.execute(update(RegistrationCode).where(
            RegistrationCode.npi == number, RegistrationCode.used_at.is_(None),
            RegistrationCode.expires_at > now).values(used_at=now)).rowcount
        code = _new_code()
        row = RegistrationCode(npi=number, facility_name=name, code_hash=code_hash(code),
                               issued_by=principal.user_id, issued_at=now,
                               expires_at=now + settings.current().registration_code_lifetime)
        session.add(row)
        session.flush()
        audit.record(session, action="registration_code.issued", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="npi", target_id=number,
                     details={"code_id": row.id, "superseded": superseded}, now=now)
        return IssuedCode(id=row.id, code=code, expires_at=row.expires_at)


def _state(code: RegistrationCode, now: datetime) -> str:
    if code.group_id is not None:
        return CodeState.USED
    if code.used_at is not None:
        return CodeState.SUPERSEDED
    return CodeState.EXPIRED if code.expires_at <= now else CodeState.PENDING


def list_codes(db: Database, principal: Principal, *, limit: int = 50) -> list[CodeRow]:
    """The most recently issued codes, newest first, with who issued them and their state."""
    now = clock.now()
    with transaction(db, write=False) as session:
        principal.require(Action.ISSUE_REGISTRATION_CODES)
        rows = session.execute(
            select(RegistrationCode, User.email)
            .outerjoin(User, User.id == RegistrationCode.issued_by)
            .order_by(RegistrationCode.issued_at.desc(), RegistrationCode.id.desc())
            .limit(max(1, min(limit, 500)))).all()
        return [CodeRow(id=code.id, npi=code.npi, facility_name=code.facility_name,
                        issued_by=email or "", issued_at=code.issued_at,
                        expires_at=code.expires_at, used_at=code.used_at, state=_state(code, now))
                for code, email in rows]


def _failures(session: Session, now: datetime, number: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == _FAILED, AuditEvent.outcome == "failure",
        AuditEvent.occurred_at > now - ATTEMPT_WINDOW)
    if number is not None:
        query = query.where(AuditEvent.target_type == "npi", AuditEvent.target_id == number)
    return session.scalar(query) or 0


def _record_failure(session: Session, number: str, reason: str, now: datetime, *,
                    outcome: str = "failure") -> None:
    audit.record(session, action=_FAILED, outcome=outcome, target_type="npi", target_id=number,
                 details={"reason": reason}, now=now)


def _record_failure_alone(db: Database, number: str, reason: str, now: datetime, *,
                          outcome: str = "failure") -> None:
    with transaction(db) as session:
        _record_failure(session, number, reason, now, outcome=outcome)


def _check_form(*, email: str, name: str, phone: str, password: str,
                accept_terms: bool) -> tuple[str, str, str]:
    name, phone = " ".join((name or "").split()), (phone or "").strip()
    if not accept_terms:
        raise InvalidInput("Please read and accept the terms of use.")
    address = addresses.checked(email or "")
    if not 1 <= len(name) <= 200:
        raise InvalidInput("Enter your name (at most 200 characters).")
    if len(phone) > 40:
        raise InvalidInput("Enter a phone number of at most 40 characters.")
    password_policy.check(password or "", email=address, name=name)
    return address, name, phone


def register(db: Database, *, npi_number: str, code: str, email: str, name: str, phone: str,
             password: str, accept_terms: bool) -> int:
    """Create the group, its facility, the person and their group-admin role; returns the new
    user's id. Nobody is signed in."""
    address, name, phone = _check_form(email=email, name=name, phone=phone, password=password,
                                       accept_terms=accept_terms)
    number = _valid_npi(npi_number)
    now = clock.now()
    still_valid = (RegistrationCode.code_hash == code_hash(code or ""),
                   RegistrationCode.npi == number, RegistrationCode.used_at.is_(None),
                   RegistrationCode.expires_at > now)

    # 1. Throttle, then a first look at the code: cheap, and no write lock held.
    with transaction(db, write=False) as session:
        throttled = (_failures(session, now, number) >= ATTEMPTS_ALLOWED
                     or _failures(session, now) >= GLOBAL_FAILURES_ALLOWED)
        matches = not throttled and session.scalar(
            select(RegistrationCode.id).where(*still_valid)) is not None
    if throttled:
        _record_failure_alone(db, number, "too_many_attempts", now, outcome="denied")
        raise InvalidInput(TOO_MANY)
    if not matches:
        _record_failure_alone(db, number, "no_matching_code", now)
        raise InvalidInput(NO_MATCH)

    # 2. The slow bcrypt hash, outside any transaction (only for someone holding a valid code).
    password_hash = passwords.hash_password(password)

    # 3. Claim the code and create everything, one registration per NPI at a time (issue_code
    #    takes the same lock, so the code cannot be superseded half-way).
    refusal: tuple[str, str, str] | None = None  # (outcome, audited reason, message)
    try:
        with transaction(db) as session:
            db.serialise(session, f"registration:{number}")
            taken = _npi_taken(session, number)
            if session.scalar(select(RegistrationCode.id).where(*still_valid)) is None:
                refusal = ("failure", "no_matching_code", NO_MATCH)  # lost a race for the code
            elif taken:
                refusal = ("denied", "npi_registered",
                           taken + " Ask the group's administrator to invite you.")
            elif session.scalar(select(User.id).where(User.email == address)):
                refusal = ("denied", "email_in_use", EMAIL_TAKEN)
            else:
                # Conditional as well: of two registrations with one code, only one finds it unused.
                claimed = session.execute(
                    update(RegistrationCode).where(*still_valid).values(used_at=now)
                    .returning(RegistrationCode.id, RegistrationCode.facility_name)).first()
                if claimed is None:
                    refusal = ("failure", "no_matching_code", NO_MATCH)
                else:
                    return _create(session, number=number, code_id=claimed.id,
                                   facility_name=claimed.facility_name, email=address, name=name,
                                   phone=phone, password_hash=password_hash, now=now)
            _record_failure(session, number, refusal[1], now, outcome=refusal[0])
    except IntegrityError:
        # Only if the same email or NPI was written in the meantime by another path (an
        # invitation accepted at this instant); everything above was rolled back.
        raise InvalidInput("The registration could not be completed; please try again.") from None
    raise InvalidInput(refusal[2])


def _create(session: Session, *, number: str, code_id: int, facility_name: str, email: str,
            name: str, phone: str, password_hash: str, now: datetime) -> int:
    group = ProviderGroup(name=facility_name, npi=number, created_at=now)
    session.add(group)
    session.flush()
    session.add(Provider(group_id=group.id, name=facility_name, npi=number, address="", city="",
                         state=""))
    user = User(email=email, name=name, phone=phone, password_hash=password_hash, status=UserStatus.ACTIVE,
                created_at=now)
    session.add(user)
    session.flush()
    terms.record_acceptance(session, user, now=now)
    session.add(Membership(user_id=user.id, group_id=group.id, provider_id=None,
                           role=Role.PROVIDER_GROUP_ADMIN))
    session.execute(update(RegistrationCode).where(RegistrationCode.id == code_id)
                    .values(group_id=group.id))
    audit.record(session, action="provider_group.registered", actor_user_id=user.id,
                 actor_email=email, target_type="provider_group", target_id=group.id,
                 details={"npi": number, "code_id": code_id,
                          "terms_version": user.terms_version}, now=now)
    return user.id
