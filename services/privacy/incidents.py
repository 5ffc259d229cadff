"""Reports received in error: flagging takes the report out of that account's view at once and
opens an incident in the privacy team's queue; the queue is claimed one incident per person.

The notification deadline is the discovery time plus services.hipaa.NOTIFICATION_PERIOD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from db import dialect
from db.engine import Database
from db.models import (
    Account,
    AccountMembership,
    Incident,
    Provider,
    Report,
    ReportRecipient,
    User,
)
from services import audit, clock
from services.csv_export import to_csv
from services.errors import InvalidInput
from services.hipaa import NOTIFICATION_PERIOD
from services.insight import report_volume
from services.policy import Action
from services.principals import Principal
from services.reports import access_trail, report_types
from services.reports.access import load_many
from services.statuses import IncidentStatus, ReportStatus
from services.transaction import transaction

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
        # Refuses (and audits) a report not in view; a withdrawn or replaced one is out of every
        # recipient's view already (a person who is also clinic staff still sees it there).
        [report] = load_many(session, principal, [report_id])
        if report.status == ReportStatus.WITHDRAWN:
            raise InvalidInput("The clinic has withdrawn this report: it is out of every "
                               "recipient's view already. Support can log one reported by phone.")
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
    with report_volume.recount(session, [report_id]):
        session.execute(delete(ReportRecipient).where(ReportRecipient.report_id == report_id,
                                                      ReportRecipient.account_id == account_id))
    incident = Incident(report_id=report_id, wrong_account_id=account_id,
                        reported_by=principal.user_id, channel=channel, note=note,
                        discovered_at=now, removed_at=now, status=IncidentStatus.OPEN, assessment={},
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
            Incident.status != IncidentStatus.CLOSED)
        if assignee_id is not None:
            query = query.where(Incident.assignee_id == assignee_id)
        rows = session.execute(query.order_by(Incident.discovered_at, Incident.id).limit(limit)).all()
    return [QueueRow(i.id, i.report_id, account, i.status, assignee or "", i.discovered_at,
                     i.discovered_at + NOTIFICATION_PERIOD) for i, account, assignee in rows]


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
        query = (select(Incident.id).where(Incident.status == IncidentStatus.OPEN, Incident.assignee_id.is_(None))
                 .order_by(Incident.discovered_at, Incident.id).limit(1))
        # Each claimer skips rows another transaction holds, instead of waiting for them; on
        # SQLite the write transaction (BEGIN IMMEDIATE) already lets one claimer in at a time.
        query = dialect.skipping_locked_rows(session, query)
        incident_id = session.scalar(query)
        if incident_id is None or not _take(session, principal, incident_id, now):
            return None
        return incident_id


def _take(session, principal: Principal, incident_id: int, now: datetime) -> bool:
    taken = session.execute(
        update(Incident).where(Incident.id == incident_id, Incident.assignee_id.is_(None),
                               Incident.status == IncidentStatus.OPEN)
        .values(assignee_id=principal.user_id, claimed_at=now, status=IncidentStatus.IN_REVIEW)
        .execution_options(synchronize_session=False)).rowcount
    if taken:
        audit.record(session, action="incident.claimed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     now=now)
    return bool(taken)


@dataclass(frozen=True)
class Access:
    at: datetime
    who: str
    action: str  # report.opened, report.previewed or report.downloaded


def access_history(db: Database, principal: Principal, *, incident_id: int) -> list[Access]:
    """Who at the wrong account opened, previewed or downloaded the report, from the audit trail."""
    with transaction(db, write=False) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        members = select(AccountMembership.user_id).where(
            AccountMembership.account_id == incident.wrong_account_id)
        seen = access_trail.events(session, [incident.report_id], actors=members)
    return [Access(e.at, e.actor_email, e.action) for e in seen]

# The four factors of the HIPAA breach risk assessment (45 CFR 164.402).
FACTORS = {
    "nature": "Nature and extent of the information (identifiers, likelihood of re-identification)",
    "recipient": "The unauthorised person who received it",
    "acquired": "Whether the information was actually acquired or viewed",
    "mitigation": "How far the risk has been mitigated (for example, attested destruction)",
}
OUTCOMES = {"low_probability": "Low probability of compromise: not a reportable breach",
            "breach": "Breach requiring notification"}


def assess(db: Database, principal: Principal, *, incident_id: int, factors: dict[str, str],
           outcome: str, attested_destroyed: bool = False) -> None:
    """Record the four-factor assessment and its outcome (privacy officers)."""
    missing = [FACTORS[key] for key in FACTORS if not (factors.get(key) or "").strip()]
    if missing:
        raise InvalidInput("Assess every factor: " + "; ".join(missing) + ".")
    if outcome not in OUTCOMES:
        raise InvalidInput("Choose the outcome of the assessment.")
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.DECIDE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        if incident.status == IncidentStatus.CLOSED:
            raise InvalidInput("Reopen the incident to change its assessment.")
        incident.assessment = {**{k: factors[k].strip()[:2000] for k in FACTORS},
                               "attested_destroyed": bool(attested_destroyed),
                               "assessed_by": principal.email, "assessed_at": now.isoformat()}
        incident.outcome = outcome
        audit.record(session, action="incident.assessed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     details={"outcome": outcome, "attested_destroyed": bool(attested_destroyed)},
                     now=now)


def resolution_of(text: str) -> str:
    """A closing's resolution as it will be kept; refused when nothing is said."""
    if not text.strip():
        raise InvalidInput("Say how the incident was resolved.")
    return text.strip()[:4000]


def close(db: Database, principal: Principal, *, incident_id: int, resolution: str) -> None:
    """Close with a resolution; needs an assessment first (privacy officers)."""
    resolution = resolution_of(resolution)
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.DECIDE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        if incident.outcome is None:
            raise InvalidInput("Complete the risk assessment before closing.")
        if incident.status == IncidentStatus.CLOSED:
            raise InvalidInput("The incident is already closed.")
        incident.status, incident.closed_at = IncidentStatus.CLOSED, now
        incident.resolution = resolution
        audit.record(session, action="incident.closed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     details={"outcome": incident.outcome}, now=now)


def reopen(db: Database, principal: Principal, *, incident_id: int) -> None:
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.DECIDE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        if incident.status != IncidentStatus.CLOSED:
            raise InvalidInput("Only a closed incident can be reopened.")
        incident.status, incident.closed_at = IncidentStatus.IN_REVIEW, None
        audit.record(session, action="incident.reopened", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     now=now)


def reroute(db: Database, principal: Principal, *, incident_id: int, account_id: int) -> None:
    """Send the report to the account that should have had it (support and privacy)."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        if account_id == incident.wrong_account_id:
            raise InvalidInput("That is the account the report reached in error.")
        if session.get(Account, account_id) is None:
            raise InvalidInput("No such client account.")
        if session.get(ReportRecipient, (incident.report_id, account_id)) is None:
            with report_volume.recount(session, [incident.report_id]):
                session.add(ReportRecipient(report_id=incident.report_id, account_id=account_id,
                                            routed_at=now))
        audit.record(session, action="incident.rerouted", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     details={"report_id": incident.report_id, "account_id": account_id}, now=now)


def _incident(session, principal: Principal, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise principal.denied(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
    return incident


@dataclass(frozen=True)
class IncidentDetail:
    id: int
    status: str
    channel: str
    note: str
    reported_by: str
    assignee: str
    discovered_at: datetime
    removed_at: datetime | None
    deadline: datetime
    report_id: int
    report_type: str
    service_date: object
    posted_at: datetime
    provider: str
    wrong_account: str
    recipients_now: tuple[str, ...]
    assessment: dict
    outcome: str | None
    resolution: str


def detail(db: Database, principal: Principal, *, incident_id: int) -> IncidentDetail:
    """An incident with its report's metadata (never its content) and where the report goes now."""
    with transaction(db, write=False) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        report = session.get(Report, incident.report_id)
        provider = session.get(Provider, report.provider_id)
        wrong = session.get(Account, incident.wrong_account_id)
        reporter = session.get(User, incident.reported_by) if incident.reported_by else None
        assignee = session.get(User, incident.assignee_id) if incident.assignee_id else None
        now_to = session.scalars(select(Account.name).join(
            ReportRecipient, ReportRecipient.account_id == Account.id).where(
            ReportRecipient.report_id == report.id).order_by(Account.name)).all()
        return IncidentDetail(
            incident.id, incident.status, incident.channel, incident.note,
            reporter.email if reporter else "", assignee.email if assignee else "",
            incident.discovered_at, incident.removed_at,
            incident.discovered_at + NOTIFICATION_PERIOD, report.id,
            report_types.names(session).get(report.report_type, report.report_type),
            report.service_date, report.posted_at, provider.name, wrong.name, tuple(now_to),
            dict(incident.assessment or {}), incident.outcome, incident.resolution)


def record_notification(db: Database, principal: Principal, *, incident_id: int,
                        individuals_on: object | None, authority_on: object | None) -> None:
    """When the affected people and HHS were notified (for breaches)."""
    with transaction(db) as session:
        principal.require(Action.DECIDE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        incident.assessment = {**(incident.assessment or {}),
                               "individuals_notified_on": str(individuals_on or ""),
                               "hhs_notified_on": str(authority_on or "")}
        audit.record(session, action="incident.notified", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     details={"individuals": bool(individuals_on), "hhs": bool(authority_on)})


def export_csv(db: Database, principal: Principal, *, start: datetime, end: datetime) -> bytes:
    """Incidents discovered in [start, end) as CSV, for the privacy log (audited)."""
    if end <= start:
        raise InvalidInput("The period ends before it starts.")
    with transaction(db) as session:
        principal.require(Action.DECIDE_INCIDENTS, target_type="incident")
        rows = session.execute(
            select(Incident, Account.name, Report.report_type)
            .join(Account, Account.id == Incident.wrong_account_id)
            .join(Report, Report.id == Incident.report_id)
            .where(Incident.discovered_at >= start, Incident.discovered_at < end)
            .order_by(Incident.discovered_at, Incident.id)).all()
        labels = report_types.names(session)
        audit.record(session, action="incidents.exported", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident",
                     details={"from": start.isoformat(), "to": end.isoformat(), "rows": len(rows)})
    header = ["Incident", "Discovered (UTC)", "Report", "Report type", "Received in error by",
              "Channel", "Removed (UTC)", "Status", "Outcome", "Attested destroyed",
              "Individuals notified", "HHS notified", "Closed (UTC)", "Resolution"]
    return to_csv(header, ([
        i.id, i.discovered_at.isoformat(), i.report_id, labels.get(report_type, report_type), account,
        i.channel, i.removed_at.isoformat() if i.removed_at else "", i.status, i.outcome or "",
        "yes" if (i.assessment or {}).get("attested_destroyed") else "no",
        (i.assessment or {}).get("individuals_notified_on", ""),
        (i.assessment or {}).get("hhs_notified_on", ""),
        i.closed_at.isoformat() if i.closed_at else "", i.resolution,
    ] for i, account, report_type in rows))


def reroute_choices(db: Database, principal: Principal, *, incident_id: int) -> dict[int, str]:
    """Accounts the report could be re-routed to (every account but the wrong one)."""
    with transaction(db, write=False) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        rows = session.execute(select(Account.id, Account.name, Account.kind)
                               .where(Account.id != incident.wrong_account_id)
                               .order_by(Account.name)).all()
    return {aid: f"{name} ({'TPA' if kind == 'tpa' else kind})" for aid, name, kind in rows}


def confirm_removal(db: Database, principal: Principal, *, incident_id: int) -> None:
    """The reviewer confirms the report is out of the wrong account's view (and keeps it so)."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.TRIAGE_INCIDENTS, target_type="incident", target_id=incident_id)
        incident = _incident(session, principal, incident_id)
        still_there = session.get(ReportRecipient, (incident.report_id, incident.wrong_account_id))
        if still_there is not None:  # re-routed back by mistake: take it out again
            with report_volume.recount(session, [incident.report_id]):
                session.delete(still_there)
        incident.assessment = {**(incident.assessment or {}), "removal_confirmed_by": principal.email,
                               "removal_confirmed_at": now.isoformat()}
        audit.record(session, action="incident.removal_confirmed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="incident", target_id=incident_id,
                     now=now)


def account_names(db: Database, principal: Principal) -> dict[int, str]:
    """Client account names, for logging a phone report."""
    with transaction(db, write=False) as session:
        principal.require(Action.TRIAGE_INCIDENTS)
        return dict(session.execute(select(Account.id, Account.name)).all())


def account_named(db: Database, principal: Principal, name: str) -> int:
    """The client account a caller names, exactly as its name is written, for a phone report."""
    by_name = {account_name: account_id
               for account_id, account_name in account_names(db, principal).items()}
    if name.strip() not in by_name:
        raise InvalidInput("No client account has that name.")
    return by_name[name.strip()]
