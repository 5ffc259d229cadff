"""Corrections and withdrawals of posted reports (docs/reports.md, "Corrections and withdrawals").

A correction is a new report in place of an available one: its own file (checked and stored as
any upload is), the same patient, type, provider, service date and claim, posted and delivered
now, sent to every account the old one was sent to. The old one becomes status "withdrawn" with
reason "corrected"; its successor is the report whose corrects_report_id names it, so a chain of
corrections is followed one link at a time. A withdrawal takes a report posted in error out of
every recipient's view, with one reason from a fixed list. Neither deletes a routing row: the
rows say who was sent the report, which is how a recipient asking for it later is told what
happened (instead of "not available") and how the clinic sees who had opened it before.

Both keep report_volume_daily exact through report_volume (a correction counts as a posting on
its own day; a withdrawal moves "withdrawn" on the report's posting day).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db import dialect
from db.blob_store import BlobStore
from db.engine import Database
from db.models import (
    Provider,
    Report,
    ReportRecipient,
    User,
)
from services import audit, clock, reach
from services.errors import InvalidInput
from services.insight import report_volume
from services.policy import Action
from services.principals import Principal
from services.reports import access_trail, ingest, previews, scope, search
from services.statuses import ReportStatus
from services.transaction import transaction

# Stored in reports.withdrawn_reason (at most 40 characters); the words are what people read.
CORRECTED = search.CORRECTED
WITHDRAWAL_REASONS = {
    "wrong_patient": "Posted for the wrong patient",
    "wrong_employer": "Posted to the wrong employer",
    "duplicate": "Duplicate",
    "illegible": "Incomplete or illegible",
    "other": "Other error",
}
REPLACED_WORDS = "Replaced by a correction"


def status_words(status: str, withdrawn_reason: str | None) -> str:
    """A report's status as the clinic and staff read it."""
    if status == ReportStatus.WITHDRAWN:
        return REPLACED_WORDS if withdrawn_reason == CORRECTED else "Withdrawn"
    return str(status).capitalize()


@dataclass(frozen=True)
class Lifecycle:
    """Where a report stands among corrections: what it replaced and what replaced it."""

    corrects: int | None  # the report this one replaced
    replaced_by: int | None  # the correction that replaced this one
    withdrawn_at: datetime | None
    reason: str  # words: "Replaced by a correction", a withdrawal reason, or ""
    recipients: int  # accounts it was sent to
    of_clinic: bool  # the principal acts for its clinic (or is staff): may see who opened it


def lifecycle(db: Database, principal: Principal, report_id: int) -> Lifecycle:
    """The report's place among corrections (for a report the principal may see)."""
    with transaction(db, write=False) as session:
        report = _visible(session, principal, report_id)
        successor = _successor(session, report_id)
        recipients = session.scalar(select(func.count()).select_from(ReportRecipient)
                                    .where(ReportRecipient.report_id == report_id)) or 0
        reason = ""
        if report.status == ReportStatus.WITHDRAWN:
            reason = (REPLACED_WORDS if report.withdrawn_reason == CORRECTED
                      else WITHDRAWAL_REASONS.get(report.withdrawn_reason or "", "Withdrawn"))
        group_id = session.scalar(select(Provider.group_id).where(Provider.id == report.provider_id))
        of_clinic = reach.reaches_provider(principal, report.provider_id, group_id)
        return Lifecycle(corrects=report.corrects_report_id, replaced_by=successor,
                         withdrawn_at=report.withdrawn_at, reason=reason, recipients=recipients,
                         of_clinic=of_clinic)


def may_correct(principal: Principal) -> bool:
    return principal.can(Action.CORRECT_REPORTS)


def may_withdraw(principal: Principal) -> bool:
    return principal.can(Action.WITHDRAW_REPORTS)


def correct(db: Database, principal: Principal, *, report_id: int, data: bytes,
            blob_store: BlobStore) -> int:
    """Post `data` as the corrected version of an available report; returns the new report's id."""
    with transaction(db, write=False) as session:
        report = _clinic_report(session, principal, report_id, Action.CORRECT_REPORTS)
        _check_correctable(session, report)
        providers_in_reach = reach.provider_ids(session, principal)
    page_count = ingest.check_file(data)
    sha256 = hashlib.sha256(data).hexdigest()
    preview = ingest.draw_unless_known(db, sha256, data)
    now = clock.now()
    with transaction(db) as session:
        db.serialise(session, f"blob:{sha256}")
        query = select(Report.id).where(Report.file_sha256 == sha256).order_by(Report.id)
        if providers_in_reach is not None:
            query = query.where(Report.provider_id.in_(sorted(providers_in_reach)))
        existing = session.scalar(query.limit(1))
        if existing is not None:
            raise InvalidInput(f"This file is already posted as report {existing}: a correction "
                               "needs the corrected PDF.")
        stored = blob_store.put(data)
        try:
            if preview is not None:
                previews.keep(session, blob_store, sha256, preview)
            return _replace(session, principal, report_id, stored, len(data), page_count, now)
        except BaseException:
            if session.scalar(select(Report.id).where(Report.file_sha256 == sha256).limit(1)) is None:
                blob_store.delete(sha256)
                blob_store.delete_preview(sha256)
            raise


def _replace(session: Session, principal: Principal, old_id: int, sha256: str, size: int,
             page_count: int, now: datetime) -> int:
    dialect.lock_rows(session, select(Report.id).where(Report.id == old_id))
    old = session.get(Report, old_id)
    session.refresh(old)
    # Checked again under the lock: another correction or a withdrawal may have come first.
    _check_correctable(session, old)
    new_id = session.scalar(insert(Report).returning(Report.id).values(
        report_type=old.report_type, patient_id=old.patient_id, provider_id=old.provider_id,
        service_date=old.service_date, posted_at=now, delivered_at=now,
        status=ReportStatus.AVAILABLE, injury=old.injury, state=old.state,
        claim_number=old.claim_number, file_sha256=sha256, file_size=size,
        page_count=page_count, corrects_report_id=old.id))
    accounts = session.scalars(select(ReportRecipient.account_id)
                               .where(ReportRecipient.report_id == old.id)
                               .order_by(ReportRecipient.account_id)).all()
    if accounts:
        session.execute(insert(ReportRecipient), [
            {"report_id": new_id, "account_id": account_id, "routed_at": now}
            for account_id in accounts])
    report_volume.add_posted(session, [new_id])
    with report_volume.recount(session, [old.id]):
        old.status = ReportStatus.WITHDRAWN
        old.withdrawn_at = now
        old.withdrawn_reason = CORRECTED
    audit.record(session, action="report.posted", actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="report", target_id=new_id,
                 details={"report_type": old.report_type, "recipients": len(accounts),
                          "corrects": old.id}, now=now)
    audit.record(session, action="report.corrected", actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="report", target_id=old.id,
                 details={"correction": new_id, "recipients": len(accounts)}, now=now)
    return new_id


def withdraw(db: Database, principal: Principal, *, report_id: int, reason: str) -> datetime:
    """Take a report posted in error out of every recipient's view; returns when."""
    if reason not in WITHDRAWAL_REASONS:
        raise InvalidInput("Choose why the report is withdrawn.")
    now = clock.now()
    with transaction(db) as session:
        report = _clinic_report(session, principal, report_id, Action.WITHDRAW_REPORTS)
        dialect.lock_rows(session, select(Report.id).where(Report.id == report_id))
        session.refresh(report)
        if report.status == ReportStatus.WITHDRAWN:
            raise InvalidInput(f"Report {report_id} is already withdrawn.")
        with report_volume.recount(session, [report_id]):
            report.status = ReportStatus.WITHDRAWN
            report.withdrawn_at = now
            report.withdrawn_reason = reason
        audit.record(session, action="report.withdrawn", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="report", target_id=report_id,
                     details={"reason": WITHDRAWAL_REASONS[reason]}, now=now)
    return now


def _clinic_report(session: Session, principal: Principal, report_id: int,
                   action: Action) -> Report:
    """The report, when the principal may act on it for its clinic; refused (and audited) else,
    the same way whether it is another clinic's report or none at all."""
    principal.require(action, target_type="report", target_id=report_id)
    found = session.execute(select(Report, Provider.group_id)
                            .join(Provider, Provider.id == Report.provider_id)
                            .where(Report.id == report_id)).first()
    if found is None or not reach.reaches_provider(principal, found[0].provider_id, found[1]):
        raise principal.denied(action, target_type="report", target_id=report_id)
    return found[0]


def _check_correctable(session: Session, report: Report) -> None:
    if report.status == ReportStatus.WITHDRAWN:
        successor = _successor(session, report.id)
        if successor is not None:
            raise InvalidInput(f"Report {report.id} was already replaced by report {successor}: "
                               "correct that one instead.")
        raise InvalidInput(f"Report {report.id} is withdrawn: a withdrawn report cannot be "
                           "corrected. Post the right report as a new upload.")
    if report.status != ReportStatus.AVAILABLE:
        raise InvalidInput(f"Report {report.id} is archived: ask support to re-deliver it "
                           "before correcting it.")


def _successor(session: Session, report_id: int) -> int | None:
    return session.scalar(select(Report.id).where(Report.corrects_report_id == report_id))


def _visible(session: Session, principal: Principal, report_id: int) -> Report:
    report = session.scalar(select(Report).where(Report.id == report_id,
                                                 scope.visible(session, principal)))
    if report is None:
        raise principal.denied(Action.VIEW_REPORTS, target_type="report", target_id=report_id)
    return report


# --- what a recipient is told ---------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    text: str
    replaced_by: int | None = None  # the newest correction, when the principal may open it


def notice(session: Session, principal: Principal, report_id: int) -> Notice | None:
    """Why a report the principal asked for is out of their view, when it is theirs to know:
    withdrawn or replaced, and routed to one of their accounts or of their clinic. None for
    anyone else (who gets the usual refusal)."""
    found = session.execute(select(Report, Provider.group_id)
                            .join(Provider, Provider.id == Report.provider_id)
                            .where(Report.id == report_id)).first()
    if found is None or found[0].status != ReportStatus.WITHDRAWN:
        return None
    report, group_id = found
    accounts = sorted({link.account_id for link in principal.account_links})
    routed = bool(accounts) and session.scalar(
        select(ReportRecipient.report_id).where(ReportRecipient.report_id == report_id,
                                                ReportRecipient.account_id.in_(accounts))
        .limit(1)) is not None
    if not (routed or reach.reaches_provider(principal, report.provider_id, group_id)):
        return None
    if report.withdrawn_reason != CORRECTED:
        day = report.withdrawn_at.astimezone(principal.zone).date() if report.withdrawn_at else None
        when = f" on {day:%Y-%m-%d}" if day else ""
        return Notice(f"Report {report_id} was withdrawn by the clinic{when}.")
    newest = _newest(session, report_id)
    shown = session.scalar(select(Report.id).where(Report.id == newest,
                                                   scope.visible(session, principal)))
    return Notice(f"Report {report_id} was replaced by a correction: report {newest}.",
                  replaced_by=shown)


def _newest(session: Session, report_id: int) -> int:
    """The last correction in the chain that starts at this report."""
    current, seen = report_id, {report_id}
    while True:
        following = _successor(session, current)
        if following is None or following in seen:
            return current
        seen.add(following)
        current = following


# --- who had opened it before -------------------------------------------------------------


@dataclass(frozen=True)
class EarlierAccess:
    person: str
    email: str
    account: str
    what: str  # Opened, Previewed or Downloaded
    at: datetime


def earlier_access(db: Database, principal: Principal, report_id: int) -> list[EarlierAccess]:
    """Who at a recipient account opened, previewed or downloaded this report, from the audit
    trail (oldest first). For the clinic and staff only: a recipient never sees the others."""
    with transaction(db, write=False) as session:
        principal.require(Action.VIEW_REPORTS, target_type="report", target_id=report_id)
        report = _visible(session, principal, report_id)
        if not principal.is_staff:
            group_id = session.scalar(select(Provider.group_id)
                                      .where(Provider.id == report.provider_id))
            if not reach.reaches_provider(principal, report.provider_id, group_id):
                raise principal.denied(Action.VIEW_REPORTS, target_type="report",
                                       target_id=report_id)
        sent_to = access_trail.sent_to(session, [report_id])[report_id]
        if not sent_to:
            return []
        seen = access_trail.events(session, [report_id])
        memberships = access_trail.recipient_accounts_of(
            session, (e.actor_user_id for e in seen if e.actor_user_id is not None), sent_to)
        if not memberships:
            return []
        names = dict(session.execute(select(User.id, User.name)
                                     .where(User.id.in_(sorted(memberships)))).all())
    return [EarlierAccess(person=names.get(e.actor_user_id, ""), email=e.actor_email,
                          account=", ".join(memberships[e.actor_user_id].values()),
                          what=access_trail.ACCESS_WORDS[e.action], at=e.at)
            for e in seen if e.actor_user_id in memberships]
