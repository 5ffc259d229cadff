"""Registering a provider group: support issues a code for a facility's NPI; the facility's first
person enters NPI and code, creates their account, accepts the terms and becomes group admin.

The code is shown once to support and stored only as a SHA-256. A wrong, used, expired or
superseded code, or a code for another NPI, all get one message. Failed attempts are audited
and, past five in fifteen minutes for one NPI, refused without looking at the code. An email
that already has an account is told so (as sign-up forms do): the person should sign in or
use Forgot password rather than create a second account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from db.engine import Database
from db.models import AuditEvent, Membership, Provider, ProviderGroup, RegistrationCode, User
from services import audit, clock, npi, password_policy, passwords, settings, terms
from services.auth import normalise_email
from services.errors import InvalidInput
from services.policy import Action, Role
from services.principals import Principal
from services.transaction import transaction

NO_MATCH = ("The NPI and registration code do not match a valid registration. Check both, or "
            "ask support for a new code.")
TOO_MANY = "Too many attempts for this NPI. Try again in 15 minutes."
ATTEMPT_WINDOW = timedelta(minutes=15)
ATTEMPTS_ALLOWED = 5
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeRow:
    npi: str
    facility_name: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    state: str


def _normal(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _check_npi(value: str) -> str:
    value = value.strip()
    if not npi.is_valid(value):
        raise InvalidInput("An NPI has 10 digits and a valid check digit; check the number.")
    return value


def issue_code(db: Database, principal: Principal, *, npi_number: str, facility_name: str) -> IssuedCode:
    """A new code for a facility (shown once); earlier unused codes for that NPI stop working."""
    number, name = _check_npi(npi_number), facility_name.strip()
    if not 2 <= len(name) <= 200:
        raise InvalidInput("Enter the facility's name (2 to 200 characters).")
    code = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.ISSUE_REGISTRATION_CODES, target_type="npi", target_id=number)
        if session.scalar(select(ProviderGroup.id).where(ProviderGroup.npi == number)):
            raise InvalidInput("A provider group with this NPI is already registered.")
        session.execute(update(RegistrationCode).where(
            RegistrationCode.npi == number, RegistrationCode.used_at.is_(None)).values(used_at=now))
        row = RegistrationCode(npi=number, facility_name=name, code_hash=_hash(code),
                               issued_by=principal.user_id, issued_at=now,
                               expires_at=now + settings.current().registration_code_lifetime)
        session.add(row)
        session.flush()
        audit.record(session, action="registration_code.issued", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="npi", target_id=number, now=now)
        return IssuedCode(row.id, code, row.expires_at)


def list_codes(db: Database, principal: Principal, *, limit: int = 50) -> list[CodeRow]:
    now = clock.now()
    with transaction(db, write=False) as session:
        principal.require(Action.ISSUE_REGISTRATION_CODES)
        rows = session.execute(select(RegistrationCode, User.email).outerjoin(
            User, User.id == RegistrationCode.issued_by).order_by(
            RegistrationCode.issued_at.desc(), RegistrationCode.id.desc()).limit(limit)).all()
    return [CodeRow(code.npi, code.facility_name, email or "", code.issued_at, code.expires_at,
                    "registered" if code.group_id else "ended" if code.used_at
                    else "expired" if code.expires_at <= now else "waiting")
            for code, email in rows]


def register(db: Database, *, npi_number: str, code: str, email: str, name: str, phone: str,
             password: str, accept_terms: bool) -> int:
    """Create the group, its facility, the person and their group-admin role. No sign-in."""
    address, name, phone = normalise_email(email), name.strip(), phone.strip()
    if not accept_terms:
        raise InvalidInput("Please read and accept the terms of use.")
    if "@" not in address.strip("@") or len(address) > 254:
        raise InvalidInput("Enter your email address: it will be your user ID.")
    if not name or len(name) > 200 or len(phone) > 40:
        raise InvalidInput("Enter your name (and a phone number of at most 40 characters).")
    number = _check_npi(npi_number)
    password_policy.check(password, email=address, name=name)
    password_hash = passwords.hash_password(password)
    now = clock.now()
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.email == address)):
            raise InvalidInput("An account with this email already exists: sign in, or use "
                               "Forgot password.")
        failures = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "registration.failed", AuditEvent.target_id == number,
            AuditEvent.occurred_at > now - ATTEMPT_WINDOW))
    if failures >= ATTEMPTS_ALLOWED:
        _failed(db, number, "throttled", now)
        raise InvalidInput(TOO_MANY)
    with db.transaction() as session:
        db.serialise(session, f"registration:{number}")
        if session.scalar(select(ProviderGroup.id).where(ProviderGroup.npi == number)):
            raise InvalidInput("This provider group is already registered: ask its administrator "
                               "to invite you.")
        # Claimed with a conditional UPDATE: of two registrations racing with one code, one wins.
        claimed = session.execute(update(RegistrationCode).where(
            RegistrationCode.code_hash == _hash(code), RegistrationCode.npi == number,
            RegistrationCode.used_at.is_(None), RegistrationCode.expires_at > now)
            .values(used_at=now).returning(RegistrationCode.id, RegistrationCode.facility_name)).first()
        if claimed is not None:
            group = ProviderGroup(name=claimed.facility_name, npi=number, created_at=now)
            session.add(group)
            session.flush()
            session.add(Provider(group_id=group.id, name=claimed.facility_name, npi=number))
            user = User(email=address, name=name, phone=phone, password_hash=password_hash,
                        status="active", terms_accepted_at=now,
                        terms_version=terms.current_version(), created_at=now)
            session.add(user)
            session.flush()
            session.add(Membership(user_id=user.id, group_id=group.id, provider_id=None,
                                   role=Role.PROVIDER_GROUP_ADMIN))
            session.execute(update(RegistrationCode).where(RegistrationCode.id == claimed.id)
                            .values(group_id=group.id))
            audit.record(session, action="provider_group.registered", actor_user_id=user.id,
                         actor_email=address, target_type="provider_group", target_id=group.id,
                         details={"npi": number}, now=now)
            return user.id
    _failed(db, number, "no matching code", now)
    raise InvalidInput(NO_MATCH)


def _failed(db: Database, number: str, reason: str, now: datetime) -> None:
    with db.transaction() as session:
        audit.record(session, action="registration.failed", outcome="failure", target_type="npi",
                     target_id=number, details={"reason": reason}, now=now)
