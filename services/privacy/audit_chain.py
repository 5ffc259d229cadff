"""Checking the audit trail's hash chain: the first event that does not match is named.

    python -m commands.verify_audit        # exit status 1 when the chain is broken

An event whose stored fields were changed, an event removed from the middle, or an event
inserted with a made-up hash all break the chain from that point.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent
from services import audit
from services.policy import Action
from services.principals import Principal
from services.transaction import transaction

_BATCH = 2000


@dataclass(frozen=True)
class ChainCheck:
    checked: int
    before_chain: int  # events written before the chain existed (no hash)
    first_bad_id: int | None

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def verify(db: Database) -> ChainCheck:
    """Recompute every hash in id order (an operator command; the screen calls check())."""
    checked = legacy = 0
    previous: str | None = None
    last_id = 0
    while True:
        with transaction(db, write=False) as session:
            events = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                     .order_by(AuditEvent.id).limit(_BATCH)).all()
        if not events:
            return ChainCheck(checked, legacy, None)
        for event in events:
            last_id = event.id
            if event.hash is None and previous is None:
                legacy += 1
                continue
            expected_previous = previous or audit.GENESIS
            if (event.hash is None or event.prev_hash != expected_previous
                    or audit.digest(event, expected_previous) != event.hash):
                return ChainCheck(checked, legacy, event.id)
            previous = event.hash
            checked += 1


def check(db: Database, principal: Principal) -> ChainCheck:
    """Verify the chain from the Audit trail screen; the check itself is audited."""
    with transaction(db, write=False):
        principal.require(Action.REVIEW_AUDIT)
    result = verify(db)
    with transaction(db) as session:
        audit.record(session, action="audit.verified", actor_user_id=principal.user_id,
                     actor_email=principal.email, outcome="success" if result.intact else "failure",
                     details={"checked": result.checked, "first_bad_id": result.first_bad_id})
    return result
