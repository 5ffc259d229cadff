"""Opening one report: its details, a picture of its first page and its PDF, each audited.

The picture is the PNG drawn when the file was stored (services/reports/previews.py); nothing
here draws a PDF, so no file can make the portal's server render without limit.

A report outside the principal's scope and a report that does not exist are refused the same
way (and audited), so an id cannot be used to learn whether a report exists. Staff may open
any report, but they name why before they see or download its PDF; the purpose goes into the
audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import dialect
from db.blob_store import BlobStore, FileUnreadable
from db.engine import Database
from db.models import (
    Account,
    Patient,
    Provider,
    Report,
    ReportRead,
    ReportRecipient,
)
from services import audit, clock
from services.errors import InvalidInput, PermissionDenied, ReportWithdrawn
from services.insight import portal_activity, report_volume
from services.policy import Action
from services.principals import Principal
from services.reports import corrections, previews, report_files, report_types, scope
from services.statuses import ReportStatus
from services.transaction import transaction

# Why a staff member opens a report's PDF. A fixed list (plus a ticket reference) keeps free
# text, and with it patient details, out of the audit trail.
STAFF_PURPOSES = (
    "Support request from the client or clinic",
    "Re-delivery of an archived report",
    "HIPAA incident review",
    "Quality or compliance review",
    "Legal or records request",
)
_REFERENCE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_#")
_MAX_REFERENCE = 30


@dataclass(frozen=True)
class Purpose:
    """A staff member's stated reason for opening a report's PDF."""

    reason: str
    reference: str = ""

    def audit_details(self) -> dict[str, str]:
        details = {"purpose": self.reason}
        if self.reference:
            details["reference"] = self.reference
        return details


def purpose(reason: str, reference: str = "") -> Purpose:
    """Check a staff purpose: one of STAFF_PURPOSES and an optional short ticket reference."""
    if reason not in STAFF_PURPOSES:
        raise InvalidInput("Choose why you are opening this report.")
    reference = reference.strip()
    if len(reference) > _MAX_REFERENCE or set(reference) - _REFERENCE_CHARS:
        raise InvalidInput(f"A ticket reference has at most {_MAX_REFERENCE} letters, digits, "
                           "'-', '_' or '#'.")
    return Purpose(reason, reference)


@dataclass(frozen=True)
class ReportDetail:
    id: int
    report_type: str
    type_label: str
    patient_name: str
    date_of_birth: date
    employee_id: str
    service_date: date
    posted_at: datetime
    delivered_at: datetime
    status: str
    injury: bool
    state: str
    claim_number: str | None
    provider_name: str
    provider_npi: str
    recipients: tuple[str, ...]
    page_count: int
    file_size: int
    file_sha256: str
    # Corrections and withdrawals (services/reports/corrections.py).
    corrects_report_id: int | None = None
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None

    @property
    def status_words(self) -> str:
        return corrections.status_words(self.status, self.withdrawn_reason)

    @property
    def file_name(self) -> str:
        """Type, service date and report id; never the patient's name."""
        return pdf_file_name(self.report_type, self.service_date, self.id)


def pdf_file_name(report_type: str, service_date: date, report_id: int) -> str:
    return f"{report_type}_{service_date:%Y-%m-%d}_report-{report_id}.pdf"


def open_report(db: Database, principal: Principal, report_id: int) -> ReportDetail:
    """A report's details, audited as opened; it stops being "New" for this user."""
    with transaction(db) as session:
        detail = _load(session, principal, report_id)
        mark_read(session, principal, [report_id])
        portal_activity.record_access(session, principal, [report_id], download=False)
        audit.record(session, action="report.opened", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="report", target_id=report_id)
    return detail


def pdf_bytes(db: Database, principal: Principal, report_id: int, *, blob_store: BlobStore,
              staff_purpose: Purpose | None = None, action: str = "report.downloaded") -> tuple[str, bytes]:
    """The report's PDF and its file name, audited (as a download unless told otherwise)."""
    try:
        return _pdf_bytes(db, principal, report_id, blob_store=blob_store,
                          staff_purpose=staff_purpose, action=action)
    except FileUnreadable as error:
        raise report_files.refused(db, error, report_id=report_id, actor_user_id=principal.user_id,
                                   actor_email=principal.email) from None


def _pdf_bytes(db: Database, principal: Principal, report_id: int, *, blob_store: BlobStore,
               staff_purpose: Purpose | None, action: str) -> tuple[str, bytes]:
    with transaction(db) as session:
        detail = _load(session, principal, report_id)
        details = purpose_details(principal, staff_purpose)
        data = blob_store.get(detail.file_sha256)
        mark_read(session, principal, [report_id])
        portal_activity.record_access(session, principal, [report_id],
                                      download=action == "report.downloaded")
        audit.record(session, action=action, actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="report", target_id=report_id,
                     details=details)
    return detail.file_name, data


@dataclass(frozen=True)
class FirstPage:
    """The stored picture of a report's first page, or why there is none."""

    png: bytes | None
    reason: str = ""


def first_page(db: Database, principal: Principal, report_id: int, *, blob_store: BlobStore,
               staff_purpose: Purpose | None = None) -> FirstPage:
    """The report's stored first-page PNG, audited as a preview; or the reason it has none."""
    try:
        return _first_page(db, principal, report_id, blob_store=blob_store,
                           staff_purpose=staff_purpose)
    except FileUnreadable as error:
        raise report_files.refused(db, error, report_id=report_id, actor_user_id=principal.user_id,
                                   actor_email=principal.email) from None


def _first_page(db: Database, principal: Principal, report_id: int, *, blob_store: BlobStore,
                staff_purpose: Purpose | None) -> FirstPage:
    with transaction(db) as session:
        detail = _load(session, principal, report_id)
        details = purpose_details(principal, staff_purpose)
        shown = previews.state(session, detail.file_sha256)
        png = blob_store.get_preview(detail.file_sha256) if shown.ready else None
        if png is None:
            return FirstPage(None, shown.reason or previews.NOT_YET)
        mark_read(session, principal, [report_id])
        portal_activity.record_access(session, principal, [report_id], download=False)
        audit.record(session, action="report.previewed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="report", target_id=report_id,
                     details=details)
    return FirstPage(png)


def redeliver(db: Database, principal: Principal, report_id: int) -> datetime:
    """Make an archived report available again for another retention period (staff)."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.REDELIVER_REPORTS, target_type="report", target_id=report_id)
        report = session.get(Report, report_id)
        if report is None:
            raise principal.denied(Action.REDELIVER_REPORTS, target_type="report",
                                   target_id=report_id)
        if report.status != ReportStatus.ARCHIVED:
            raise InvalidInput("Only an archived report can be re-delivered; this one is "
                               f"{report.status}.")
        with report_volume.recount(session, [report_id]):
            report.status = ReportStatus.AVAILABLE
            report.delivered_at = now
        audit.record(session, action="report.redelivered", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="report", target_id=report_id)
    return now


def load_many(session: Session, principal: Principal, report_ids: list[int]) -> list[Report]:
    """Reports by id in the given order; refuses the whole request if any is out of scope."""
    wanted = list(dict.fromkeys(report_ids))
    found = {report.id: report for report in session.scalars(
        select(Report).where(Report.id.in_(wanted), scope.visible(session, principal)))}
    missing = [report_id for report_id in wanted if report_id not in found]
    if missing:
        raise principal.denied(Action.VIEW_REPORTS, target_type="report", target_id=missing[0])
    return [found[report_id] for report_id in wanted]


def _load(session: Session, principal: Principal, report_id: int) -> ReportDetail:
    try:
        report = load_many(session, principal, [report_id])[0]
    except PermissionDenied as denied:
        # Still a refusal, audited as one; but a report the clinic withdrew or replaced says so
        # to those it was sent to (corrections.notice decides who), not "not available".
        told = corrections.notice(session, principal, report_id)
        if told is None:
            raise
        raise ReportWithdrawn(denied, told.text, told.replaced_by) from None
    patient = session.get(Patient, report.patient_id)
    provider = session.get(Provider, report.provider_id)
    recipients = session.scalars(
        select(Account.name).join(ReportRecipient, ReportRecipient.account_id == Account.id)
        .where(ReportRecipient.report_id == report_id).order_by(Account.name)).all()
    if not principal.is_staff:
        # Client users learn only about their own accounts among the recipients.
        own = {link.account_name for link in principal.account_links}
        recipients = [name for name in recipients if name in own] if own else list(recipients)
    return ReportDetail(
        id=report.id, report_type=report.report_type,
        type_label=report_types.names(session).get(report.report_type, report.report_type),
        patient_name=f"{patient.last_name}, {patient.first_name}",
        date_of_birth=patient.date_of_birth, employee_id=patient.employee_id,
        service_date=report.service_date, posted_at=report.posted_at,
        delivered_at=report.delivered_at, status=report.status, injury=report.injury,
        state=report.state, claim_number=report.claim_number, provider_name=provider.name,
        provider_npi=provider.npi, recipients=tuple(recipients), page_count=report.page_count,
        file_size=report.file_size, file_sha256=report.file_sha256,
        corrects_report_id=report.corrects_report_id, withdrawn_at=report.withdrawn_at,
        withdrawn_reason=report.withdrawn_reason,
    )


def purpose_details(principal: Principal, staff_purpose: Purpose | None) -> dict[str, str]:
    if not principal.is_staff:
        return {}
    if staff_purpose is None:
        raise InvalidInput("Choose why you are opening this report before viewing its PDF.")
    return staff_purpose.audit_details()


def mark_read(session: Session, principal: Principal, report_ids: list[int]) -> None:
    """Record the first opening of each report by this user (later ones change nothing)."""
    if not report_ids:
        return
    now = clock.now()
    session.execute(
        dialect.insert_or_ignore(session, ReportRead),
        [{"user_id": principal.user_id, "report_id": report_id, "first_opened_at": now}
         for report_id in report_ids],
    )
