"""A patient's accounting of disclosures (45 CFR 164.528): where their reports went, when, and
who there opened or downloaded them, over a period (by default the last six years).

Every line comes from a record the portal already keeps (docs/privacy.md, "Accounting of
disclosures"): routing rows (report_recipients.routed_at), the audit trail's report events
(through services/reports/access_trail.py, the same reading as a report's "who had opened it")
and the HIPAA incidents that removed a report received in error. Producing an accounting, on
screen or as a file, is itself recorded (disclosures.accounted, ids only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import Account, Incident, Patient, Report, ReportRecipient, User
from services import audit, clock, time_zones
from services.errors import InvalidInput
from services.policy import Action
from services.principals import Principal
from services.reports import access_trail, report_types, search
from services.transaction import transaction

YEARS = 6  # how far back an individual may ask (164.528(a)(3))
MAX_MATCHES = 50
OUTPUTS = ("screen", "pdf", "csv")

DELIVERED = "Delivered"
REDELIVERED = "Re-delivered"
BUNDLE_DOWNLOAD = "Downloaded in a bundle"
CORRECTED = "Replaced by a correction"
WITHDRAWN = "Withdrawn"
REMOVED_IN_ERROR = "Removed: received in error"
STAFF_OR_CLINIC = "Clinic or portal staff (not a recipient)"
# The audit actions read for the accounting besides openings, previews and downloads.
CHANGE_ACTIONS = {"report.redelivered": REDELIVERED, "report.corrected": CORRECTED,
                  "report.withdrawn": WITHDRAWN}
ACCOUNTED_ACTIONS = (*access_trail.ACCESS_ACTIONS, *CHANGE_ACTIONS)
# Within one instant: the delivery before what was done with it, a removal last.
_ORDER = {DELIVERED: 0, REDELIVERED: 1, CORRECTED: 3, WITHDRAWN: 3, REMOVED_IN_ERROR: 4}


@dataclass(frozen=True)
class PatientMatch:
    id: int
    name: str
    date_of_birth: date
    employee_id: str
    employer: str
    reports: int


@dataclass(frozen=True)
class Line:
    """One disclosure or event of the accounting."""

    at: datetime  # UTC
    report_id: int
    report: str  # type and service date, never the patient
    what: str
    account: str  # the recipient account concerned
    person: str  # the named user who acted, for openings and downloads
    email: str
    note: str = ""


@dataclass(frozen=True)
class Accounting:
    patient_id: int
    patient_name: str
    date_of_birth: date
    employee_id: str
    start: date
    end: date
    zone: ZoneInfo
    produced_at: datetime  # UTC
    produced_by: str
    reports: int
    lines: tuple[Line, ...]

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)


def default_period(today: date) -> tuple[date, date]:
    """The last six years to today (29 February goes back to 28 February)."""
    try:
        return today.replace(year=today.year - YEARS), today
    except ValueError:
        return today.replace(year=today.year - YEARS, day=28), today


def utc_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[from, to) in UTC covering the calendar days start..end in the reader's zone."""
    return time_zones.days_between(start, end, zone)


def find_patients(db: Database, principal: Principal, *, name: str = "",
                  date_of_birth: date | None = None, employee_id: str = "") -> list[PatientMatch]:
    """Patients matching every criterion given (name words, date of birth, employee ID)."""
    name, employee_id = name.strip(), employee_id.strip()
    with transaction(db, write=False) as session:
        principal.require(Action.ACCOUNT_FOR_DISCLOSURES, target_type="patient")
        if not (name or date_of_birth or employee_id):
            raise InvalidInput("Give the patient's name, date of birth or employee ID.")
        query = select(Patient.id, Patient.first_name, Patient.last_name, Patient.date_of_birth,
                       Patient.employee_id, Account.name).outerjoin(
            Account, Account.id == Patient.employer_account_id)
        if name:
            query = query.where(Patient.id.in_(search.patients_named(session, name)))
        if date_of_birth:
            query = query.where(Patient.date_of_birth == date_of_birth)
        if employee_id:
            query = query.where(Patient.employee_id == employee_id)
        found = session.execute(query.order_by(Patient.last_name, Patient.first_name, Patient.id)
                                .limit(MAX_MATCHES)).all()
        counts = dict(session.execute(
            select(Report.patient_id, func.count()).where(
                Report.patient_id.in_([row[0] for row in found])).group_by(Report.patient_id)).all())
    return [PatientMatch(id=pid, name=f"{last}, {first}", date_of_birth=born, employee_id=number,
                         employer=employer or "", reports=counts.get(pid, 0))
            for pid, first, last, born, number, employer in found]


def account(db: Database, principal: Principal, *, patient_id: int, start: date | None = None,
            end: date | None = None, output: str = "screen") -> Accounting:
    """The accounting of one patient's disclosures over [start, end] (days in the reader's
    zone; default the last six years), in date order; recorded in the audit trail."""
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}")
    now = clock.now()
    zone = principal.zone
    default_start, today = default_period(now.astimezone(zone).date())
    start, end = start or default_start, end or today
    if start > end:
        raise InvalidInput("The period ends before it starts.")
    with transaction(db) as session:
        principal.require(Action.ACCOUNT_FOR_DISCLOSURES, target_type="patient",
                          target_id=patient_id)
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise InvalidInput("No such patient: search again.")
        reports, lines = _lines(session, patient_id, *utc_bounds(start, end, zone))
        audit.record(session, action="disclosures.accounted", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="patient", target_id=patient_id,
                     # Calendar days as typed, not instants: one "period" reads as it was asked.
                     details={"period": f"{start.isoformat()} to {end.isoformat()}",
                              "reports": reports, "lines": len(lines), "output": output},
                     now=now)
    return Accounting(patient_id=patient_id,
                      patient_name=f"{patient.last_name}, {patient.first_name}",
                      date_of_birth=patient.date_of_birth, employee_id=patient.employee_id,
                      start=start, end=end, zone=zone, produced_at=now,
                      produced_by=principal.name or principal.email, reports=reports,
                      lines=tuple(lines))


def _lines(session: Session, patient_id: int, since: datetime,
           until: datetime) -> tuple[int, list[Line]]:
    """(how many reports the patient has, the lines within [since, until) in date order)."""
    reports = session.execute(
        select(Report.id, Report.report_type, Report.service_date, Report.posted_at)
        .where(Report.patient_id == patient_id).order_by(Report.posted_at, Report.id)).all()
    if not reports:
        return 0, []
    ids = [row.id for row in reports]
    labels = report_types.names(session)
    label = {row.id: f"{labels.get(row.report_type, row.report_type)}, service {row.service_date:%Y-%m-%d}"
             for row in reports}
    posted = {row.id: row.posted_at for row in reports}
    sent_to = access_trail.sent_to(session, ids)
    routed = session.execute(select(ReportRecipient.report_id, ReportRecipient.account_id,
                                    ReportRecipient.routed_at)
                             .where(ReportRecipient.report_id.in_(ids))).all()
    removed = session.execute(select(Incident.id, Incident.report_id, Incident.wrong_account_id,
                                     Incident.discovered_at, Incident.removed_at)
                              .where(Incident.report_id.in_(ids))).all()
    trail = access_trail.events(session, ids, actions=ACCOUNTED_ACTIONS, start=since, end=until)
    actors = {e.actor_user_id for e in trail
              if e.action in access_trail.ACCESS_ACTIONS and e.actor_user_id is not None}
    every_account = set().union(*sent_to.values())
    memberships = access_trail.recipient_accounts_of(session, actors, every_account)
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(sorted(actors)))).all()
                 ) if actors else {}
    accounts = dict(session.execute(select(Account.id, Account.name)
                                    .where(Account.id.in_(sorted(every_account)))).all()
                    ) if every_account else {}

    def in_view_at(report_id: int, at: datetime) -> str:
        """The accounts a report was routed to at a moment (for a re-delivery or withdrawal)."""
        held = {a for r, a, when in routed if r == report_id and when <= at}
        held |= {a for _, r, a, _, gone in removed if r == report_id and (gone is None or gone > at)}
        return ", ".join(sorted(accounts.get(a, "") for a in held))

    lines: list[Line] = []
    still_routed = {(report_id, account_id) for report_id, account_id, _ in routed}
    for report_id, account_id, routed_at in routed:
        lines.append(Line(routed_at, report_id, label[report_id], DELIVERED,
                          accounts.get(account_id, ""), "", ""))
    for incident_id, report_id, account_id, discovered_at, removed_at in removed:
        if (report_id, account_id) not in still_routed:
            # Its routing row went with the removal; it was routed when the report was posted.
            lines.append(Line(posted[report_id], report_id, label[report_id], DELIVERED,
                              accounts.get(account_id, ""), "", "",
                              f"Routing later removed (incident {incident_id})"))
        lines.append(Line(removed_at or discovered_at, report_id, label[report_id],
                          REMOVED_IN_ERROR, accounts.get(account_id, ""), "", "",
                          f"Incident {incident_id}"))
    for e in trail:
        if e.action in CHANGE_ACTIONS:
            lines.append(Line(e.at, e.report_id, label[e.report_id], CHANGE_ACTIONS[e.action],
                              in_view_at(e.report_id, e.at), "", "", _change_note(e)))
            continue
        theirs = memberships.get(e.actor_user_id, {})
        where = ", ".join(name for account_id, name in theirs.items()
                          if account_id in sent_to[e.report_id]) or STAFF_OR_CLINIC
        what = BUNDLE_DOWNLOAD if e.in_bundle else access_trail.ACCESS_WORDS[e.action]
        note = f"Bundle ({e.details['bundle']})" if e.in_bundle else ""
        if e.details.get("purpose"):
            note = "; ".join(filter(None, [note, f"Purpose: {e.details['purpose']}"]))
        lines.append(Line(e.at, e.report_id, label[e.report_id], what, where,
                          names.get(e.actor_user_id, ""), e.actor_email, note))
    kept = [line for line in lines if since <= line.at < until]
    kept.sort(key=lambda line: (line.at, _ORDER.get(line.what, 2), line.report_id))
    return len(reports), kept


def _change_note(event: access_trail.ReportEvent) -> str:
    if event.action == "report.corrected" and event.details.get("correction"):
        return f"Replaced by report {event.details['correction']}"
    if event.action == "report.withdrawn" and event.details.get("reason"):
        return f"Reason: {event.details['reason']}"
    return ""

