"""Who opened, previewed or downloaded reports, read from the audit trail.

One reading for every place that asks: the clinic's "who had opened it before"
(corrections.earlier_access), an incident's access history (privacy.incidents) and a patient's
accounting of disclosures (privacy.disclosures). A bundle download writes one
report.downloaded event per report that went out, with the bundle's format in its details, so
bundles are read here too. Callers check the principal's permission; this module only reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.models import Account, AccountMembership, AuditEvent, Incident, ReportRecipient

ACCESS_ACTIONS = ("report.opened", "report.previewed", "report.downloaded")
ACCESS_WORDS = {"report.opened": "Opened", "report.previewed": "Previewed",
                "report.downloaded": "Downloaded"}


@dataclass(frozen=True)
class ReportEvent:
    """One event of a report's trail."""

    report_id: int
    at: datetime
    action: str
    actor_user_id: int | None
    actor_email: str
    details: dict

    @property
    def in_bundle(self) -> bool:
        return bool(self.details.get("bundle"))


def trail_query(report_ids: Sequence[int], *, actions: Sequence[str] = ACCESS_ACTIONS,
                start: datetime | None = None, end: datetime | None = None,
                actors=None) -> Select:
    """The events of these reports with these actions in [start, end), oldest first.

    Read through ix_audit_events_target_time (target, time, id): each report's events within
    the period are one range of the index.
    """
    query = (select(AuditEvent.target_id, AuditEvent.occurred_at, AuditEvent.action,
                    AuditEvent.actor_user_id, AuditEvent.actor_email, AuditEvent.details)
             .where(AuditEvent.target_type == "report",
                    AuditEvent.target_id.in_([str(report_id) for report_id in report_ids]),
                    AuditEvent.action.in_(list(actions)), AuditEvent.outcome == "success")
             .order_by(AuditEvent.occurred_at, AuditEvent.id))
    if start is not None:
        query = query.where(AuditEvent.occurred_at >= start)
    if end is not None:
        query = query.where(AuditEvent.occurred_at < end)
    if actors is not None:
        query = query.where(AuditEvent.actor_user_id.in_(actors))
    return query


def events(session: Session, report_ids: Sequence[int], **filters) -> list[ReportEvent]:
    """The trail_query's events (the same keyword filters)."""
    if not report_ids:
        return []
    return [ReportEvent(int(target), at, action, actor, email or "", details or {})
            for target, at, action, actor, email, details
            in session.execute(trail_query(report_ids, **filters))]


def sent_to(session: Session, report_ids: Sequence[int]) -> dict[int, set[int]]:
    """The accounts each report was sent to: those still routed, and those it was removed
    from as received in error (the routing row goes; the incident keeps the account)."""
    sent: dict[int, set[int]] = {report_id: set() for report_id in report_ids}
    if not report_ids:
        return sent
    for report_id, account_id in session.execute(
            select(ReportRecipient.report_id, ReportRecipient.account_id)
            .where(ReportRecipient.report_id.in_(report_ids))):
        sent[report_id].add(account_id)
    for report_id, account_id in session.execute(
            select(Incident.report_id, Incident.wrong_account_id)
            .where(Incident.report_id.in_(report_ids))):
        sent[report_id].add(account_id)
    return sent


def recipient_accounts_of(session: Session, user_ids: Iterable[int],
                          account_ids: Iterable[int]) -> dict[int, dict[int, str]]:
    """For each user, their accounts among `account_ids`: id -> name, in name order."""
    users, accounts = sorted(set(user_ids)), sorted(set(account_ids))
    if not users or not accounts:
        return {}
    found: dict[int, dict[int, str]] = {}
    for user_id, account_id, name in session.execute(
            select(AccountMembership.user_id, Account.id, Account.name)
            .join(Account, Account.id == AccountMembership.account_id)
            .where(AccountMembership.user_id.in_(users), AccountMembership.account_id.in_(accounts))
            .order_by(Account.name, Account.id)):
        found.setdefault(user_id, {})[account_id] = name
    return found
