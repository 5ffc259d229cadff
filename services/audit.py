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

# Every action name the services write, with its words for people reading the trail (the Audit
# page, its filter and its export). record() refuses a name missing here, so none goes unlabelled.
ACTIONS: dict[str, str] = {
    "sign_in": "Sign-in",
    "sign_out": "Signed out",
    "session.expired": "Session expired",
    "sessions.ended": "Sessions ended",
    "user.locked": "Account locked",
    "user.unlocked": "Account unlocked",
    "user.deactivated": "Account deactivated",
    "user.reactivated": "Account reactivated",
    "user.dormant_warned": "Warned of deactivation for disuse",
    "user.deactivated_dormant": "Account deactivated for disuse",
    "user.created": "Account created",
    "permission.denied": "Permission denied",
    "demo.seeded": "Demo data loaded",
    "reports.searched": "Reports searched for a purpose",
    "report.opened": "Report opened",
    "report.previewed": "Report previewed",
    "report.downloaded": "Report downloaded",
    "bundle.link_created": "Download link made",
    "bundle.link_refused": "Download link refused",
    "bundle.completed": "Bundle download completed",
    "bundle.interrupted": "Bundle download interrupted",
    "report.posted": "Report posted",
    "report.rejected": "Report upload rejected",
    "report.redelivered": "Report re-delivered",
    "report.corrected": "Report replaced by a correction",
    "report.withdrawn": "Report withdrawn",
    "reports.archived": "Reports archived",
    "notices.changed": "New-result emails turned on or off",
    "notices.queued": "New-result emails queued",
    "saved_search.saved": "Search saved",
    "saved_search.renamed": "Saved search renamed",
    "saved_search.deleted": "Saved search deleted",
    "saved_search.email_changed": "Saved search put in or taken out of new-result emails",
    "outbox.sent": "Emails sent",
    "blobs.swept": "Unused files removed",
    "user.invited": "Person invited",
    "blobs.rewrapped": "Report files' keys re-wrapped with the new master key",
    "blobs.sealed": "Clear report files from before encryption sealed",
    "report.file_unreadable": "Report file failed its integrity check",
    "user.role_granted": "Role granted",
    "user.role_revoked": "Role removed",
    "user.role_changed": "Role changed",
    "user.contact_changed": "Contact details changed",
    "user.deleted": "Account deleted",
    "terms.accepted": "Terms accepted",
    "user.invitation_resent": "Account invitation sent again",
    "user.invitation_accepted": "Account invitation accepted",
    "password.reset_requested": "Password reset requested",
    "password.reset_throttled": "Password reset refused (too many requests)",
    "password.reset": "Password reset",
    "password.changed": "Password changed",
    "registration_code.issued": "Registration code issued",
    "registration.failed": "Registration failed",
    "provider_group.registered": "Provider group registered",
    "provider_group.created": "Provider group created",
    "provider.registered": "Provider registered",
    "provider.changed": "Provider details changed",
    "provider.moved": "Provider moved to another group",
    "provider.deactivated": "Provider deactivated",
    "provider.reactivated": "Provider reactivated",
    "incident.opened": "Incident opened",
    "incident.claimed": "Incident claimed",
    "audit.verified": "Audit chain verified",
    "incident.assessed": "Incident assessed",
    "incident.closed": "Incident closed",
    "incident.reopened": "Incident reopened",
    "incident.rerouted": "Report re-routed for an incident",
    "incident.notified": "Incident notifications recorded",
    "incidents.exported": "Incident log exported",
    "disclosures.accounted": "Accounting of disclosures produced",
    "audit.exported": "Audit events exported",
    "incident.removal_confirmed": "Removal of a misrouted report confirmed",
    "dashboard.exported": "Dashboard exported",
    "invitation.sent": "Role invitation sent",
    "invitation.resent": "Role invitation sent again",
    "invitation.accepted": "Role invitation accepted",
    "invitation.declined": "Role invitation declined",
    "invitation.cancelled": "Role invitation cancelled",
    "session.probing": "Session ended for probing",
    "session.handoff_refused": "Session hand-off refused",
    "sign_in.address_limited": "Sign-in refused (too many from one address)",
    "sign_in.password_accepted": "Password accepted, code still to come",
    "two_factor.enrolled": "Two-factor sign-in turned on",
    "two_factor.turned_off": "Two-factor sign-in turned off",
    "two_factor.recovery_codes_replaced": "New recovery codes made",
    "two_factor.reset": "Two-factor sign-in reset by support",
    "time_zone.changed": "Time zone changed",
    "user.email_change_requested": "Email address change requested",
    "user.email_changed": "Email address changed",
    "settings.contact_changed": "Portal contact details changed",
    "terms.published": "Terms of use published",
    "report_type.added": "Report type added",
    "report_type.renamed": "Report type renamed",
    "report_type.defaults_changed": "Report type's standard recipients changed",
    "report_type.retired": "Report type retired",
    "report_type.restored": "Retired report type taken back into use",
    "account.report_types_changed": "Report types an account receives changed",
    "account.created": "Client account created",
    "account.changed": "Client account details changed",
    "account.deactivated": "Client account deactivated",
    "account.reactivated": "Client account reactivated",
    "access_review.opened": "Access review opened",
    "access_review.kept": "Role kept in an access review",
    "access_review.removed": "Role removed in an access review",
    "access_review.reminded": "Access review reminders queued",
    "access_review.exported": "Access review exported",
}


def record(session: Session, *, action: str, outcome: str = "success",
           actor_user_id: int | None = None, actor_email: str | None = None,
           target_type: str | None = None, target_id: str | int | None = None,
           details: dict | None = None, now: datetime | None = None) -> None:
    """Append one event inside the caller's transaction, chained to the event before it."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: add it, with its words, to audit.ACTIONS.")
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
