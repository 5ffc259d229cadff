"""Ending a session that keeps asking for what it may not have.

One session once produced hundreds of refusals a second for minutes. Each refusal is counted
on the session's own row (shared by every replica), in a window that restarts a minute after
its first refusal; the refusal that reaches the limit ends the session. The account is left
alone: locking it would let anyone who can trigger refusals lock other people out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from db.models import LoginSession
from services import settings


def count_refusal(session: Session, *, session_id: int, now: datetime) -> bool:
    """Count one refusal against a session; True only for the refusal that ends it."""
    limits = settings.current()
    window_over = (LoginSession.refusals_since.is_(None)
                   | (LoginSession.refusals_since <= now - limits.refusal_window))
    # One conditional UPDATE, so refusals racing on several replicas are all counted.
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
        .values(refusals=case((window_over, 1), else_=LoginSession.refusals + 1),
                refusals_since=case((window_over, now), else_=LoginSession.refusals_since))
    )
    ended = session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None),
               LoginSession.refusals >= limits.refusals_before_probing)
        .values(ended_at=now, end_reason="probing")
    ).rowcount
    return bool(ended)


def refusals(session: Session, *, session_id: int) -> int:
    """The refusals counted in the session's current window."""
    return session.scalar(select(LoginSession.refusals).where(LoginSession.id == session_id)) or 0
