"""What staff see of email delivery: messages that failed or are waiting to be retried.

Addresses, kinds, attempts and the last error only: never a message's body, which may hold a
link that works as a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from db.engine import Database
from db.models import OutboxMessage
from services.policy import Action
from services.principals import Principal
from services.statuses import MessageStatus
from services.transaction import transaction


@dataclass(frozen=True)
class DeliveryProblem:
    to_address: str
    kind: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime


def problems(db: Database, principal: Principal, *, limit: int = 50) -> list[DeliveryProblem]:
    """Failed messages and those waiting for a retry, newest first (staff with user admin)."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS, target_type="outbox")
        if not principal.is_staff:
            raise principal.denied(Action.MANAGE_USERS, target_type="outbox")
        rows = session.scalars(select(OutboxMessage).where(or_(
            OutboxMessage.status == MessageStatus.FAILED,
            (OutboxMessage.status == MessageStatus.PENDING) & (OutboxMessage.attempts > 0),
        )).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)).all()
        return [DeliveryProblem(m.to_address, m.kind, m.status, m.attempts, m.last_error or "",
                                m.created_at, m.next_attempt_at) for m in rows]
