"""Handing a new session to the browser as an HttpOnly cookie.

The sign-in screen runs over Streamlit's WebSocket, which cannot set cookies. After a
successful sign-in it gets a one-time code instead (random, 256 bits, stored hashed, usable
once within 30 seconds); the browser posts it to /auth/session, whose response sets the
cookie. The exchange gives the session a fresh token, so the cookie's value has never been
anywhere but in that one response, and a code that leaked after use opens nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import LoginSession, SessionHandoff, User
from services import audit, clock, settings
from services.errors import HandoffRefused
from services.identity import sessions, tokens
from services.transaction import transaction


def issue(session: Session, *, session_id: int, now: datetime) -> str:
    """A code for the session just opened, in the sign-in's own transaction."""
    code, hashed = tokens.new_secret()
    session.add(SessionHandoff(session_id=session_id, code_hash=hashed,
                               expires_at=now + settings.current().session_handoff_lifetime))
    return code


def exchange(db: Database, *, code: str) -> str:
    """Use a code once: the session's new browser token, or HandoffRefused (audited)."""
    now = clock.now()
    with transaction(db) as session:
        # Marking it used is the first write, so two racing exchanges cannot both win.
        used = session.execute(
            update(SessionHandoff)
            .where(SessionHandoff.code_hash == tokens.digest(code or ""), SessionHandoff.used_at.is_(None),
                   SessionHandoff.expires_at > now)
            .values(used_at=now)
        ).rowcount
        found = session.execute(
            select(SessionHandoff, LoginSession, User)
            .join(LoginSession, LoginSession.id == SessionHandoff.session_id)
            .join(User, User.id == LoginSession.user_id)
            .where(SessionHandoff.code_hash == tokens.digest(code or ""))
        ).first()
        if used and found is not None and found[1].ended_at is None:
            return sessions.replace_token(session, session_id=found[1].id)
        reason = _refusal_reason(found, used, now)
        who = {"actor_user_id": found[2].id, "actor_email": found[2].email,
               "target_type": "session", "target_id": found[1].id} if found else {}
    with transaction(db) as session:
        audit.record(session, action="session.handoff_refused", outcome="denied",
                     details={"reason": reason}, now=now, **who)
    raise HandoffRefused(reason)


def _refusal_reason(found, used: int, now: datetime) -> str:
    if found is None:
        return "unknown"
    handoff, login, _ = found
    if handoff.used_at is not None and not used:
        return "replayed"
    if handoff.expires_at <= now:
        return "expired"
    return "session_ended" if login.ended_at is not None else "unknown"
