"""Searching the audit trail (the Audit page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from db.engine import Database
from db.models import AuditEvent
from services.auth import normalise_email
from services.principals import Principal
from services.policy import Action
from services.transaction import transaction

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: tuple[datetime, int] | None


def search(db: Database, principal: Principal, *, where: AuditFilter,
           before: tuple[datetime, int] | None = None) -> AuditPage:
    """Newest first, a page of 50; `before` is the keyset cursor the previous page returned."""
    with transaction(db, write=False) as session:
        principal.require(Action.REVIEW_AUDIT, target_type="audit")
        query = select(AuditEvent)
        if where.actor.strip():
            query = query.where(AuditEvent.actor_email == normalise_email(where.actor))
        if where.action:
            query = query.where(AuditEvent.action == where.action)
        if where.since is not None:
            query = query.where(AuditEvent.occurred_at >= where.since)
        if before is not None and (where.until is None or before[0] < where.until):
            # The cursor as a range bound plus a tie-break, so the time index does the work.
            at, event_id = before
            query = query.where(AuditEvent.occurred_at <= at,
                                or_(AuditEvent.occurred_at < at, AuditEvent.id < event_id))
        elif where.until is not None:
            query = query.where(AuditEvent.occurred_at < where.until)
        query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        rows = list(session.scalars(query.limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return AuditPage(events=rows, next_cursor=(rows[-1].occurred_at, rows[-1].id) if more else None)

