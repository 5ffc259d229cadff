"""Server-side sign-in sessions.

The browser keeps only an opaque random token; the table keeps its SHA-256. Every page run
resumes the session here, which enforces the idle and absolute timeouts and the user's status,
so logging out, deactivation or an expired session take effect everywhere at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import LoginSession, User
from services import audit, clock, principals, settings
from services.errors import SessionEnded
from services.identity import tokens
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction

# Writing last_seen on every rerun would make each click a database write; a minute of slack
# only ever makes the idle timeout stricter, never looser.
TOUCH_INTERVAL = timedelta(seconds=60)


def start(session: Session, *, user: User, now: datetime) -> str:
    """Open a session for a user who has just proved who they are; returns the browser token."""
    token, hashed = tokens.new_secret()
    session.add(LoginSession(user_id=user.id, token_hash=hashed, created_at=now,
                             last_seen_at=now))
    return token


def session_id(session: Session, token: str) -> int:
    """The id of the session a token opens (for a session started in this transaction)."""
    return session.scalar(select(LoginSession.id).where(LoginSession.token_hash == tokens.digest(token)))


def replace_token(session: Session, *, session_id: int) -> str:
    """Give an open session a fresh browser token (the old one stops working); returns it."""
    token, hashed = tokens.new_secret()
    session.execute(update(LoginSession).where(LoginSession.id == session_id)
                    .values(token_hash=hashed))
    return token


def _cutoffs(now: datetime) -> tuple[datetime, datetime]:
    """A session created at or before the first, or last seen at or before the second, is over."""
    limits = settings.current()
    return now - limits.session_absolute, now - limits.session_idle


def _end_reason(row: LoginSession, user: User, now: datetime) -> str | None:
    # A lock comes from someone failing to guess the password; the sessions of the person who
    # knows it stay open, or a few wrong guesses would sign anyone out.
    if user.status not in (UserStatus.ACTIVE, UserStatus.LOCKED):
        return "user_inactive"
    created_by, seen_since = _cutoffs(now)
    if row.created_at <= created_by:
        return "absolute"
    if row.last_seen_at <= seen_since:
        return "idle"
    return None


def resume(db: Database, token: str, *, activity: bool = True) -> Principal:
    """The principal behind a browser token, or SessionEnded if it no longer opens a session.

    activity=False checks without counting as use (the idle watch of an unattended screen).
    """
    now = clock.now()
    with transaction(db, write=False) as session:
        found = session.execute(
            select(LoginSession, User).join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash == tokens.digest(token))
        ).first()
        if found is None or found[0].ended_at is not None:
            # A probing end is said once more, neutrally; every other ended session just asks
            # for a sign-in (a stale cookie of it is refused here on every visit).
            raise SessionEnded("probing" if found and found[0].end_reason == "probing" else "ended")
        row, user = found
        reason = _end_reason(row, user, now)
        if reason is None:
            principal = principals.load(session, user, session_id=row.id)
    if reason is not None:
        _expire(db, row, user, reason, now)
        raise SessionEnded(reason)
    if activity and now - row.last_seen_at >= TOUCH_INTERVAL:
        with transaction(db) as session:
            session.execute(update(LoginSession)
                            .where(LoginSession.id == row.id, LoginSession.ended_at.is_(None))
                            .values(last_seen_at=now))
    return principal


def _expire(db: Database, row: LoginSession, user: User, reason: str, now: datetime) -> None:
    with transaction(db) as session:
        ended = session.execute(
            update(LoginSession)
            .where(LoginSession.id == row.id, LoginSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason)
        ).rowcount
        if ended:
            audit.record(session, action="session.expired", actor_user_id=user.id,
                         actor_email=user.email, target_type="session", target_id=row.id,
                         details={"reason": reason}, now=now)


def end(db: Database, token: str) -> None:
    """Sign out: the token stops working on every replica at once."""
    now = clock.now()
    with transaction(db) as session:
        row = session.scalars(select(LoginSession).where(LoginSession.token_hash == tokens.digest(token))).first()
        if row is None or row.ended_at is not None:
            return
        row.ended_at, row.end_reason = now, "logout"
        user = session.get(User, row.user_id)
        audit.record(session, action="sign_out", actor_user_id=user.id, actor_email=user.email,
                     target_type="session", target_id=row.id, now=now)


def end_all_for_user(session: Session, *, user_id: int, reason: str, now: datetime,
                     keep_session_id: int | None = None) -> int:
    """End every open session of a user (but one, if named) in the caller's transaction."""
    query = update(LoginSession).where(LoginSession.user_id == user_id,
                                       LoginSession.ended_at.is_(None))
    if keep_session_id is not None:
        query = query.where(LoginSession.id != keep_session_id)
    return session.execute(query.values(ended_at=now, end_reason=reason)).rowcount


def open_sessions(db: Database, principal: Principal) -> list[tuple[datetime, datetime, bool]]:
    """The acting user's open sessions: (started, last active, is this one), newest first."""
    created_by, seen_since = _cutoffs(clock.now())
    with transaction(db, write=False) as session:
        rows = session.execute(select(LoginSession.id, LoginSession.created_at,
                                      LoginSession.last_seen_at).where(
            LoginSession.user_id == principal.user_id, LoginSession.ended_at.is_(None),
            LoginSession.created_at > created_by, LoginSession.last_seen_at > seen_since)
            .order_by(LoginSession.created_at.desc())).all()
    return [(created, seen, session_id == principal.session_id) for session_id, created, seen in rows]
