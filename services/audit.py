"""The audit trail: every service appends its events here.

Details hold ids, reasons and counts only: never passwords, tokens or patient data.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import dialect
from db.engine import Database
from db.models import AuditEvent
from services import clock, probing, settings
from services.errors import PermissionDenied

GENESIS = "0" * 64  # the "previous hash" of the first event in the chain
_CHAIN_LOCK = 7_400_212
_LAST_HASH = "audit_last_hash"

# Every action name the services write; the Audit page offers these as filter choices.
ACTIONS = (
    "sign_in", "sign_out", "session.expired", "sessions.ended", "user.locked", "user.unlocked",
    "user.deactivated", "user.reactivated", "user.created", "permission.denied", "demo.seeded",
    "report.opened", "report.previewed", "report.downloaded", "report.posted", "report.rejected",
    "report.redelivered", "reports.archived", "notices.changed", "notices.queued", "outbox.sent", "blobs.swept",
    "user.invited", "user.role_granted", "user.role_revoked", "user.role_changed",
    "user.contact_changed", "user.deleted", "terms.accepted", "user.invitation_resent",
    "user.invitation_accepted", "password.reset_requested", "password.reset_throttled",
    "password.reset", "password.changed", "registration_code.issued", "registration.failed",
    "provider_group.registered", "incident.opened", "incident.claimed",
    "audit.verified", "incident.assessed", "incident.closed", "incident.reopened",
    "incident.rerouted", "incident.notified", "incidents.exported", "audit.exported", "incident.removal_confirmed",
    "dashboard.exported", "invitation.sent", "invitation.resent", "invitation.accepted",
    "invitation.declined", "invitation.cancelled", "session.probing", "session.handoff_refused",
    "sign_in.address_limited", "time_zone.changed",
)


def record(session: Session, *, action: str, outcome: str = "success",
           actor_user_id: int | None = None, actor_email: str | None = None,
           target_type: str | None = None, target_id: str | int | None = None,
           details: dict | None = None, now: datetime | None = None) -> None:
    """Append one event inside the caller's transaction, chained to the event before it."""
    previous = session.info.get(_LAST_HASH)
    if previous is None:
        # One chain: writers take turns from reading the last hash to their commit.
        dialect.take_turns(session, _CHAIN_LOCK)
        previous = session.scalar(select(AuditEvent.hash).where(AuditEvent.hash.is_not(None))
                                  .order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    event = AuditEvent(
        occurred_at=now or clock.now(),
        actor_user_id=actor_user_id,
        actor_email=actor_email,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        outcome=outcome,
        details=details or {},
        prev_hash=previous,
    )
    event.hash = digest(event, previous)
    # Later events of this transaction chain on from here without asking the database again;
    # the session inserts them in the order they were added, so ids follow the chain.
    session.info[_LAST_HASH] = event.hash
    session.add(event)


def digest(event: AuditEvent, previous: str) -> str:
    """The event's hash: its fields in a fixed form, and the hash of the event before it."""
    fields = [previous, event.occurred_at.astimezone(timezone.utc).isoformat(),
              event.actor_user_id, event.actor_email, event.action, event.target_type,
              event.target_id, event.outcome, event.details or {}]
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_denial(db: Database, denied: PermissionDenied) -> None:
    """Write a permission denial in its own transaction, so it outlives the refused work.

    The refusal also counts against the signed-in session; the one that reaches the probing
    limit ends the session and writes the single session.probing event.
    """
    now = clock.now()
    # The database's own transaction, not services.transaction: that door calls this function
    # on a refusal (and imports this module), so going through it here would be a circle.
    with db.transaction() as session:
        record(session, action="permission.denied", outcome="denied",
               actor_user_id=denied.actor_user_id, actor_email=denied.actor_email,
               target_type=denied.target_type, target_id=denied.target_id,
               details={"action": denied.action}, now=now)
        if denied.session_id is not None and probing.count_refusal(
                session, session_id=denied.session_id, now=now):
            record(session, action="session.probing", outcome="denied",
                   actor_user_id=denied.actor_user_id, actor_email=denied.actor_email,
                   target_type="session", target_id=denied.session_id,
                   details={"refusals": settings.current().refusals_before_probing}, now=now)
