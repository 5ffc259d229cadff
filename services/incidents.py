"""Reports received in error: flagging takes the report out of that account's view at once and
opens an incident in the privacy team's queue; the queue is claimed one incident per person.

The notification deadline is the discovery time plus 60 days (HIPAA breach notification).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from db.engine import Database
from db.models import Account, Incident, Report, ReportRecipient, User
from services import audit, clock
from services.errors import InvalidInput
from services.policy import Action
from services.principals import Principal
from services.report_access import load_many
from services.transaction import transaction

NOTIFICATION_WINDOW = timedelta(days=60)
MAX_NOTE = 1000


@dataclass(frozen=True)
class QueueRow:
    id: int
    report_id: int
    wrong_account: str
    status: str
    assignee: str
    discovered_at: datetime
    deadline: datetime

    def days_left(self, now: datetime) -> int:
        return (self.deadline - now).days


def flag(db: Database, principal: Principal, *, report_id: int, note: str = "") -> list[int]:
    """"I received this in error": out of the flagging user's accounts' view now; incidents opened."""
    note = note.strip()[:MAX_NOTE]
    now = clock.now()
    with transaction(db) as session:
        load_many(session, principal, [report_id])  # refuses (and audits) a report not in view
        mine = [link.account_id for link in principal.account_links]
        routed = session.scalars(select(ReportRecipient.account_id).where(
            ReportRecipient.report_id == report_id, ReportRecipient.account_id.in_(mine))).all()
        if not routed:
            raise InvalidInput("Only a recipient of this report can say it arrived in error; "
                               "support can log one reported by phone.")
        return [_open(session, principal, report_id, account_id, note, "portal", now)
                for account_id in routed]


def log_phone_report(db: Database, principal: Principal, *, report_id: int, account_id: int,
                     note: str = "") -> int:
    """Support logs a report received in error that the recipient reported by phone."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="report", target_id=report_id)
        if session.get(Report, report_id) is None or session.get(ReportRecipient, (
                report_id, account_id)) is None:
            raise InvalidInput("That report is not in that account's view.")
        return _open(session, principal, report_id, account_id, note.strip()[:MAX_NOTE], "phone", now)


def _open(session, principal: Principal, report_id: int, account_id: int, note: str,
          channel: str, now: datetime) -> int:
    session.execute(delete(ReportRecipient).where(ReportRecipient.report_id == report_id,
                                                  ReportRecipient.account_id == account_id))
    incident = Incident(report_id=report_id, wrong_account_id=account_id,
                        reported_by=principal.user_id, channel=channel, note=note,
                        discovered_at=now, removed_at=now, status="open", assessment={},
                        resolution="")
    session.add(incident)
    session.flush()
    audit.record(session, action="incident.opened", actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="incident", target_id=incident.id,
                 details={"report_id": report_id, "account_id": account_id, "channel": channel},
                 now=now)
    return incident.id


def queue(db: Database, principal: Principal, *, status: str | None = None,
          assignee_id: int | None = None, limit: int = 200) -> list[QueueRow]:
    """Incidents oldest first (not closed ones unless asked), with their deadlines."""
    with transaction(db, write=False) as session:
        principal.require(Action.TRIAGE_INCIDENTS)
        query = (select(Incident, Account.name, User.email)
                 .join(Account, Account.id == Incident.wrong_account_id)
                 .outerjoin(User, User.id == Incident.assignee_id))
        query = query.where(Incident.status == status) if status else query.where(
            Incident.status != "closed")
        if assignee_id is not None:
            query = query.where(Incident.assignee_id == assignee_id)
        rows = session.execute(query.order_by(Incident.discovered_at, Incident.id).limit(limit)).all()
    return [QueueRow(i.id, i.report_id, account, i.status, assignee or "", i.discovered_at,
                     i.discovered_at + NOTIFICATION_WINDOW) for i, account, assignee in rows]


def claim(db: Database, principal: Principal, *, incident_id: int) -> None:
    """Take one incident; refused if someone else already has it."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
        if not _take(session, principal, incident_id, now):
            raise InvalidInput("Someone else has already taken this incident.")


def claim_next(db: Database, principal: Principal) -> int | None:
    """Take the oldest unclaimed incident; safe when several people work the queue at once."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident")
        query = (select(Incident.id).where(Incident.status == "open", Incident.assignee_id.is_(None))
                 .order_by(Incident.discovered_at, Incident.id).limit(1))
        if not db.is_sqlite:
            # Each claimer skips rows another transaction holds, instead of waiting for them.
            query = query.with_for_update(skip_locked=True)
        # On SQLite the write transaction (BEGIN IMMEDIATE) already lets one claimer in at a time.
        incident_id = session.scalar(query)
        if incident_id is None or not _take(session, principal, incident_id, now):
            return None
        return incident_id


def _take(session, principal: Principal, incident_id: int, now: datetime) -> bool:
    taken = session.execute(
        update(Incident).where(Incident.id == incident_id, Incident.assignee_id.is_(None),
                               Incident.status == "open")
        .values(assignee_id=principal.user_id, claimed_at=now, status="in_review")
        .execution_options(synchronize_session=False)).rowcount
    if taken:
        audit.record(session, action="incident.claimed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     now=now)
    return bool(taken)
