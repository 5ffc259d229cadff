"""Searching the audit trail (the Audit page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from db.engine import Database
from db.models import AuditEvent
from services import audit
from services.csv_export import to_csv
from services.mail import addresses
from services.policy import Action
from services.principals import Principal
from services.privacy import audit_words
from services.privacy.audit_words import AuditLine
from services.transaction import transaction

PAGE_SIZE = 50


EXPORT_LIMIT = 50_000
_NAMES_BATCH = 1_000  # events whose names one query looks up while exporting
ACCESS_ACTIONS = ("report.opened", "report.previewed", "report.downloaded")


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    actions: tuple[str, ...] = ()  # several actions at once (e.g. every kind of report access)
    labels: tuple[str, ...] = ()  # actions by their words, as the Audit page offers them


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    next_cursor: tuple[datetime, int] | None

    @property
    def events(self) -> list[AuditEvent]:
        return [line.event for line in self.lines]


def action_labels() -> list[str]:
    """Every action's words, in alphabetical order, for the action filter."""
    return sorted(audit.ACTIONS.values())


def search(db: Database, principal: Principal, *, where: AuditFilter,
           before: tuple[datetime, int] | None = None) -> AuditPage:
    """Newest first, a page of 50, in words; `before` is the keyset cursor the previous page returned."""
    with transaction(db, write=False) as session:
        principal.require(Action.REVIEW_AUDIT, target_type="audit")
        query = select(AuditEvent)
        if where.actor.strip():
            query = query.where(AuditEvent.actor_email == addresses.normalise(where.actor))
        query = _narrowed(query, where)
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
        in_words = audit_words.lines(session, rows)
    return AuditPage(lines=in_words, next_cursor=(rows[-1].occurred_at, rows[-1].id) if more else None)



def _narrowed(query, where: AuditFilter):
    if where.action:
        query = query.where(AuditEvent.action == where.action)
    if where.actions:
        query = query.where(AuditEvent.action.in_(where.actions))
    if where.labels:
        query = query.where(AuditEvent.action.in_(audit_words.codes_for(where.labels)))
    if where.target_type:
        query = query.where(AuditEvent.target_type == where.target_type)
    if where.target_id.strip():
        query = query.where(AuditEvent.target_id == where.target_id.strip())
    if where.outcome:
        query = query.where(AuditEvent.outcome == where.outcome)
    if where.since is not None:
        query = query.where(AuditEvent.occurred_at >= where.since)
    return query


def export_csv(db: Database, principal: Principal, *, where: AuditFilter) -> bytes:
    """The matching events as CSV (formula-safe, at most EXPORT_LIMIT); the export is audited."""
    with transaction(db) as session:
        principal.require(Action.REVIEW_AUDIT, target_type="audit")
        query = _narrowed(select(AuditEvent), where)
        if where.actor.strip():
            query = query.where(AuditEvent.actor_email == addresses.normalise(where.actor))
        if where.until is not None:
            query = query.where(AuditEvent.occurred_at < where.until)
        events = session.scalars(query.order_by(AuditEvent.occurred_at, AuditEvent.id)
                                 .limit(EXPORT_LIMIT)).all()
        rows = []
        for start in range(0, len(events), _NAMES_BATCH):
            rows += [[e.id, e.occurred_at.isoformat(), e.actor_email or "", line.sentence, line.action,
                      e.action, e.outcome, line.target, e.target_type or "", e.target_id or "",
                      line.details()]
                     for line in audit_words.lines(session, events[start:start + _NAMES_BATCH])
                     for e in (line.event,)]
        chosen = {k: ", ".join(v) if isinstance(v, tuple) else str(v) for k, v in vars(where).items() if v}
        audit.record(session, action="audit.exported", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="audit",
                     details={"rows": len(rows), "filter": chosen})
    return to_csv(["Event", "Time (UTC)", "Actor", "What happened", "Action", "Action code", "Outcome",
                   "Target", "Target type", "Target id", "Details"], rows)
