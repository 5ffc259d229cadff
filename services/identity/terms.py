"""The terms of use people accept before they use the portal, and which text they accepted.

The texts are rows of `terms_versions`, published by a system admin on the Settings screen; the
newest is the one everyone must have accepted. Publishing a new text therefore asks everyone to
accept again at their next sign-in (their next click, for a session already open). Each
acceptance is a `terms_acceptances` row naming the version accepted; `users.terms_version` keeps
that version's label, which is what the sign-in gate compares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import dialect
from db.engine import Database
from db.models import TermsAcceptance, TermsVersion, User
from services import audit, clock
from services.errors import InvalidInput
from services.policy import Action
from services.principals import Principal
from services.transaction import transaction

VERSION_LENGTH = 20  # terms_versions.version, users.terms_version
TEXT_LENGTH = 20_000
_VERSION_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")


@dataclass(frozen=True)
class Terms:
    """One published text of the terms of use."""

    id: int
    version: str
    text: str
    published_at: datetime
    published_by: str  # the publisher's name, "" when unknown
    accepted: int = 0  # how many people accepted it (filled by `history` only)


def _newest(session: Session) -> TermsVersion:
    row = session.scalar(select(TermsVersion).order_by(TermsVersion.id.desc()).limit(1))
    if row is None:
        # Migration 0013 publishes the first text; a database without one was never migrated.
        raise RuntimeError("No terms of use are published: bring the database up to date "
                           "with `make migrate`.")
    return row


def _terms(row: TermsVersion, publisher: str = "") -> Terms:
    return Terms(row.id, row.version, row.text, row.published_at, publisher)


def current_in(session: Session) -> Terms:
    """The text everyone must have accepted (inside the caller's transaction)."""
    return _terms(_newest(session))


def current(db: Database) -> Terms:
    """The text everyone must have accepted now."""
    with transaction(db, write=False) as session:
        return current_in(session)


def current_version(db: Database) -> str:
    return current(db).version


def needs_acceptance(db: Database, principal: Principal) -> bool:
    """Whether the signed-in person must accept the current text before anything else."""
    return principal.terms_version != current_version(db)


def record_acceptance(session: Session, user: User, *, now: datetime) -> str:
    """Record, in the caller's transaction, that the user accepted the current text; returns its
    version. The user must have an id already (flush a new user first)."""
    row = _newest(session)
    session.execute(dialect.insert_or_ignore(session, TermsAcceptance).values(
        user_id=user.id, terms_version_id=row.id, accepted_at=now))
    user.terms_version, user.terms_accepted_at = row.version, now
    return row.version


def accept(db: Database, principal: Principal, *, version: str | None = None) -> None:
    """Record that the signed-in user accepted the current terms (version and time).

    `version`: the label of the text the person read; refused when a newer one was published
    meanwhile, so nobody accepts a text they were not shown."""
    now = clock.now()
    with transaction(db) as session:
        if version is not None and version != current_in(session).version:
            raise InvalidInput("A newer text of the terms of use was published meanwhile: "
                               "please read it and accept again.")
        user = session.get(User, principal.user_id)
        version = record_acceptance(session, user, now=now)
        audit.record(session, action="terms.accepted", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=principal.user_id,
                     details={"version": version}, now=now)


def history(db: Database, principal: Principal) -> list[Terms]:
    """Every published text, newest (the current one) first, with who published it and how
    many people accepted it."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_SETTINGS, target_type="terms")
        accepted = (select(TermsAcceptance.terms_version_id, func.count().label("people"))
                    .group_by(TermsAcceptance.terms_version_id).subquery())
        rows = session.execute(select(TermsVersion, User.name, accepted.c.people)
                               .outerjoin(User, User.id == TermsVersion.published_by)
                               .outerjoin(accepted, accepted.c.terms_version_id == TermsVersion.id)
                               .order_by(TermsVersion.id.desc())).all()
        return [replace(_terms(row, name or ""), accepted=people or 0)
                for row, name, people in rows]


def publish(db: Database, principal: Principal, *, version: str, text: str) -> Terms:
    """Publish a new text: it becomes current at once, and everyone accepts it at their next
    sign-in. Earlier texts stay, with the acceptances that point to them."""
    version, text = version.strip(), text.strip()
    if not version or len(version) > VERSION_LENGTH or not _VERSION_SHAPE.fullmatch(version):
        raise InvalidInput(f"Give the version a label of at most {VERSION_LENGTH} letters, digits, "
                           "spaces, dots, dashes or underscores, like 2027-01.")
    if not text or len(text) > TEXT_LENGTH:
        raise InvalidInput(f"Enter the text of the terms (at most {TEXT_LENGTH:,} characters).")
    now = clock.now()
    taken = InvalidInput("A version with that label was published before: choose another label.")
    try:
        with transaction(db) as session:
            principal.require(Action.MANAGE_SETTINGS, target_type="terms")
            previous = current_in(session)
            if text == previous.text.strip():
                raise InvalidInput("The text is the same as the current version's: change it "
                                   "before publishing.")
            if session.scalar(select(TermsVersion.id).where(TermsVersion.version == version)):
                raise taken
            row = TermsVersion(version=version, text=text + "\n", published_at=now,
                               published_by=principal.user_id)
            session.add(row)
            session.flush()
            audit.record(session, action="terms.published", actor_user_id=principal.user_id,
                         actor_email=principal.email, target_type="terms", target_id=row.id,
                         details={"before": previous.version, "after": version,
                                  "characters": len(text)}, now=now)
            return _terms(row, principal.name)
    except IntegrityError:
        raise taken from None  # the same label, published at the same moment by someone else
