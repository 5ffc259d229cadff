"""Single-use emailed tokens (invitations, password resets, email changes): random, stored only as a hash.

A token is 256 random bits sent in a link. The table keeps its SHA-256, so a copy of the
database opens nothing. A newer token of the same purpose ends the older ones; redeeming one
is a conditional UPDATE, so two tabs redeeming the same link cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Token, User
from services import settings
from services.errors import DomainError

INVALID = "This link is not valid any more. Ask for a new one."


class InvalidToken(DomainError):
    """The link is unknown, used, superseded or expired; `expired` tells the last case apart."""

    def __init__(self, message: str = INVALID, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(message)


SECRET_BYTES = 32


def digest(raw: str) -> str:
    """What the database keeps of a secret sent to a browser or in a link: its SHA-256."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_secret() -> tuple[str, str]:
    """A fresh 256-bit secret for a link, a cookie or a code, and its digest to store."""
    raw = secrets.token_urlsafe(SECRET_BYTES)
    return raw, digest(raw)


def lifetime(purpose: str):
    limits = settings.current()
    return {"invitation": limits.invitation_lifetime,
            "password_reset": limits.password_reset_lifetime,
            "email_change": limits.email_change_lifetime}[purpose]


def issue(session: Session, *, user_id: int, purpose: str, now: datetime,
          new_email: str | None = None) -> str:
    """A new token for the user; their earlier unused ones of this purpose stop working.

    `new_email`: for an email change, the address the link is sent to and confirms."""
    kill_all(session, user_id=user_id, purpose=purpose, now=now)
    raw, hashed = new_secret()
    session.add(Token(user_id=user_id, purpose=purpose, token_hash=hashed, created_at=now,
                      expires_at=now + lifetime(purpose), new_email=new_email))
    session.flush()
    return raw


def kill_all(session: Session, *, user_id: int, purpose: str | None = None,
             now: datetime) -> None:
    """End every unused token of the user (of one purpose, or all): a password change does."""
    query = update(Token).where(Token.user_id == user_id, Token.used_at.is_(None))
    if purpose is not None:
        query = query.where(Token.purpose == purpose)
    session.execute(query.values(used_at=now).execution_options(synchronize_session=False))


def find(session: Session, raw: str, *, purpose: str, now: datetime) -> Token:
    """The token row if it would redeem now; InvalidToken otherwise. Consumes nothing."""
    token = session.scalar(select(Token).where(Token.token_hash == digest(raw or ""),
                                               Token.purpose == purpose))
    if token is None or token.used_at is not None:
        raise InvalidToken()
    if token.expires_at <= now:
        raise InvalidToken(expired=True)
    return token


def peek(session: Session, raw: str, *, purpose: str, now: datetime) -> User:
    """The token's user if the token would redeem now; InvalidToken otherwise. Consumes nothing."""
    return session.get(User, find(session, raw, purpose=purpose, now=now).user_id)


def redeem(session: Session, raw: str, *, purpose: str, now: datetime) -> User:
    """Use the token once and return its user; InvalidToken when it cannot be used."""
    user = peek(session, raw, purpose=purpose, now=now)
    used = session.execute(
        update(Token).where(Token.token_hash == digest(raw), Token.used_at.is_(None),
                            Token.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if not used:
        raise InvalidToken()
    return user
