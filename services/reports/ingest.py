"""Posting report PDFs: check each file and its details, store it, route it, audit it.

Each upload stands alone: a bad file or bad details reject that upload with a reason and the
rest of the batch goes on. A report row is written only after its PDF is in the blob store,
and a PDF stored for an upload that then fails is removed again unless another report uses
it, so the database and the blob store never disagree.

The same file posted twice within the uploader's reach (their providers; a group admin's whole
group; anywhere for staff) is one report. The same bytes from another clinic are that clinic's
own report, sharing the stored file and its picture, and the uploader learns nothing about the
other report. The first-page picture is drawn once, here, in a limited child process; a file
whose picture cannot be drawn is still posted, and the outcome says why it has no preview.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.blob_store import BlobStore
from db.engine import Database
from db.models import Account, Patient, Provider, Report, ReportRecipient
from services import audit, clock, reach, settings
from services.errors import DomainError, InvalidInput, PermissionDenied
from services.insight import report_volume
from services.policy import Action
from services.principals import Principal
from services.reports import _pdf_preview as pdf_preview
from services.reports import pdf_check, previews, report_types, routing
from services.statuses import ReportStatus
from services.transaction import transaction

log = logging.getLogger(__name__)

# The details every upload carries: the manifest's columns and the upload page's fields.
FIELDS = ("report_type", "provider_npi", "service_date", "patient_last_name", "patient_first_name",
          "patient_date_of_birth", "employee_id", "employer", "injury", "claim_number",
          "claim_payer")
REQUIRED = FIELDS[:9]
_TRUE = {"yes", "y", "true", "1", "injury"}
_FALSE = {"no", "n", "false", "0", "non-injury", "noninjury", "non injury"}
_EARLIEST_SERVICE = date(1990, 1, 1)


@dataclass(frozen=True)
class ReportUpload:
    """One PDF and its details as typed or read from a manifest (all text)."""

    label: str
    data: bytes
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestOutcome:
    label: str
    result: Literal["posted", "duplicate", "rejected"]
    report_id: int | None = None
    reason: str = ""
    # For a posted report whose first page could not be drawn: why it has no preview.
    preview_problem: str = ""


@dataclass(frozen=True)
class _Details:
    report_type: str
    provider_id: int
    state: str
    service_date: date
    last_name: str
    first_name: str
    date_of_birth: date
    employee_id: str
    employer_id: int
    injury: bool
    claim_number: str | None
    claim_payer: int | None


def report_type_key(session: Session, value: str) -> str:
    """The type given by its code ('ccf') or its name, any case; a retired type is refused."""
    found = report_types.find(session, value)
    if found is None:
        raise InvalidInput("Unknown report type.")
    if found.retired:
        raise InvalidInput(f"{found.name} is retired: it takes no new uploads.")
    return found.code


def ingest(db: Database, principal: Principal, uploads: Iterable[ReportUpload], *,
           blob_store: BlobStore,
           progress: Callable[[int, int, IngestOutcome], None] | None = None) -> list[IngestOutcome]:
    """Post every acceptable upload; returns one outcome per upload, in order."""
    uploads = list(uploads)
    with transaction(db, write=False) as session:
        principal.require(Action.UPLOAD_REPORTS)
        allowed_providers = reach.provider_ids(session, principal)
    outcomes = []
    for done, upload in enumerate(uploads, start=1):
        outcome = _ingest_one(db, principal, upload, blob_store, allowed_providers)
        outcomes.append(outcome)
        if progress is not None:
            progress(done, len(uploads), outcome)
    return outcomes


def _ingest_one(db: Database, principal: Principal, upload: ReportUpload, blob_store: BlobStore,
                allowed_providers: frozenset[int] | None) -> IngestOutcome:
    try:
        # services' transaction: a provider outside the uploader's scope is audited as a denial.
        with transaction(db, write=False) as session:
            details = _check_details(session, principal, upload.fields, allowed_providers)
        page_count = check_file(upload.data)
        sha256 = hashlib.sha256(upload.data).hexdigest()
        existing = _report_with_file(db, sha256, allowed_providers)
        if existing is not None:
            return _duplicate(upload.label, existing)
        preview = draw_unless_known(db, sha256, upload.data)
        report_id, posted = _store(db, principal, upload.data, sha256, page_count,
                                   details, blob_store, allowed_providers, preview)
        if not posted:
            return _duplicate(upload.label, report_id)
        with transaction(db, write=False) as session:
            shown = previews.state(session, sha256)
        problem = "" if shown.ready else (shown.reason or previews.NOT_YET)
        return IngestOutcome(upload.label, "posted", report_id, preview_problem=problem)
    except PermissionDenied:
        return IngestOutcome(upload.label, "rejected",
                             reason="You cannot post reports for this provider.")
    except DomainError as refused:
        _audit_rejection(db, principal, str(refused))
        return IngestOutcome(upload.label, "rejected", reason=str(refused))
    except Exception:
        # One upload failing for an unexpected reason must not stop the clinic's batch.
        log.exception("storing an uploaded report failed")
        reason = "The report could not be stored. Try again, and contact support if it persists."
        _audit_rejection(db, principal, reason)
        return IngestOutcome(upload.label, "rejected", reason=reason)


def _duplicate(label: str, report_id: int) -> IngestOutcome:
    return IngestOutcome(label, "duplicate", report_id,
                         f"This file is already posted as report {report_id}.")


def check_file(data: bytes) -> int:
    """The checks every posted PDF passes (size, pages, a bounded parse); returns its pages.

    Corrections (services/reports/corrections.py) post their file through this too."""
    limits = settings.current()
    checked = pdf_check.check_pdf(data, max_bytes=limits.max_report_bytes,
                                  max_pages=limits.max_report_pages,
                                  timeout_seconds=limits.pdf_check_seconds,
                                  memory_mb=limits.pdf_check_memory_mb)
    if not checked.ok:
        raise InvalidInput(checked.reason or "This PDF cannot be read.")
    return checked.page_count or 0


def draw_unless_known(db: Database, sha256: str, data: bytes) -> pdf_preview.Preview | None:
    """The first page drawn in a limited child; None when this file's picture is already kept.

    Drawn before the file's lock is taken, since it may take seconds.
    """
    with transaction(db, write=False) as session:
        if previews.state(session, sha256).status is not None:
            return None
    return pdf_preview.render(data, limits=previews.limits())


def _store(db: Database, principal: Principal, data: bytes, sha256: str, page_count: int,
           details: _Details, blob_store: BlobStore, providers_in_reach: frozenset[int] | None,
           preview: pdf_preview.Preview | None) -> tuple[int, bool]:
    """Blob and picture first, then the rows; undo the files if the rows fail.

    Returns the report id and True when posted, or an existing report's id and False when the
    file is already posted within the uploader's reach. Everything from the duplicate check to
    committing the rows happens while holding this file's lock (SQLite: the write lock;
    PostgreSQL: an advisory lock on the hash), so two uploads of one file in one reach make
    one report, and a failing upload can only remove files no other upload is about to commit.
    """
    with transaction(db) as session:
        db.serialise(session, f"blob:{sha256}")
        existing = session.scalar(_reports_with_file(sha256, providers_in_reach).limit(1))
        if existing is not None:
            return existing, False
        stored = blob_store.put(data)
        try:
            if preview is not None:
                previews.keep(session, blob_store, sha256, preview)
            return _insert(session, principal, stored, len(data), page_count, details), True
        except BaseException:
            if _report_with_file(db, sha256, None) is None:
                blob_store.delete(sha256)
                blob_store.delete_preview(sha256)
            raise


def _insert(session: Session, principal: Principal, sha256: str, size: int, page_count: int,
            details: _Details) -> int:
    patient_id = _patient(session, details)
    now = clock.now()
    report_id = session.scalar(insert(Report).returning(Report.id).values(
        report_type=details.report_type, patient_id=patient_id, provider_id=details.provider_id,
        service_date=details.service_date, posted_at=now, delivered_at=now, status=ReportStatus.AVAILABLE,
        injury=details.injury, state=details.state, claim_number=details.claim_number,
        file_sha256=sha256, file_size=size, page_count=page_count))
    # Decided now, with each account's set as it is at posting (docs/reports.md).
    accounts = routing.recipients(session, details.report_type, employer=details.employer_id,
                                  claim_payer=details.claim_payer)
    if accounts:
        session.execute(insert(ReportRecipient), [
            {"report_id": report_id, "account_id": account_id, "routed_at": now}
            for account_id in accounts])
    report_volume.add_posted(session, [report_id])
    audit.record(session, action="report.posted", actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="report", target_id=report_id,
                 details={"report_type": details.report_type, "recipients": len(accounts)},
                 now=now)
    return report_id


def _reports_with_file(sha256: str, providers_in_reach: frozenset[int] | None):
    """Reports of this file among the providers in `providers_in_reach` (None: anywhere)."""
    query = select(Report.id).where(Report.file_sha256 == sha256).order_by(Report.id)
    if providers_in_reach is not None:
        query = query.where(Report.provider_id.in_(sorted(providers_in_reach)))
    return query


def _report_with_file(db: Database, sha256: str,
                      providers_in_reach: frozenset[int] | None) -> int | None:
    with transaction(db, write=False) as session:
        return session.scalar(_reports_with_file(sha256, providers_in_reach).limit(1))


def _patient(session: Session, details: _Details) -> int:
    """The employer's patient with this employee id, created on first sight."""
    patient = session.scalar(select(Patient).where(
        Patient.employer_account_id == details.employer_id,
        Patient.employee_id == details.employee_id))
    if patient is None:
        patient = Patient(first_name=details.first_name, last_name=details.last_name,
                          date_of_birth=details.date_of_birth, employee_id=details.employee_id,
                          employer_account_id=details.employer_id)
        session.add(patient)
        session.flush()
        return patient.id
    same_person = (patient.last_name.casefold() == details.last_name.casefold()
                   and patient.first_name.casefold() == details.first_name.casefold()
                   and patient.date_of_birth == details.date_of_birth)
    if not same_person:
        raise InvalidInput("This employee ID is already on file for the employer with a different "
                           "name or date of birth; check the patient details.")
    return patient.id


def _check_details(session: Session, principal: Principal, fields: dict[str, str],
                   allowed_providers: frozenset[int] | None) -> _Details:
    values = {name: (fields.get(name) or "").strip() for name in FIELDS}
    missing = [name.replace("_", " ") for name in REQUIRED if not values[name]]
    if missing:
        raise InvalidInput(f"Missing {', '.join(missing)}.")
    report_type = report_type_key(session, values["report_type"])
    provider = session.scalar(select(Provider).where(Provider.npi == values["provider_npi"]))
    if provider is None:
        raise InvalidInput("No provider is registered with this provider NPI.")
    if allowed_providers is not None and provider.id not in allowed_providers:
        raise principal.denied(Action.UPLOAD_REPORTS, target_type="provider", target_id=provider.id)
    if provider.deactivated_at is not None:
        raise InvalidInput("This provider is deactivated: reports can no longer be posted for it. "
                           "Its group's administrator can reactivate it.")
    service_date = _date(values["service_date"], "service date")
    if not _EARLIEST_SERVICE <= service_date <= clock.now().date():
        raise InvalidInput("The service date must be a past date.")
    date_of_birth = _date(values["patient_date_of_birth"], "date of birth")
    if date_of_birth >= service_date or date_of_birth.year < 1900:
        raise InvalidInput("The date of birth must be before the service date.")
    for name, limit in (("patient_last_name", 100), ("patient_first_name", 100),
                        ("employee_id", 40), ("claim_number", 40)):
        if len(values[name]) > limit:
            raise InvalidInput(f"The {name.replace('_', ' ')} is longer than {limit} characters.")
    employer = _account(session, values["employer"], kinds=("employer",), what="employer")
    claim_payer = None
    if values["claim_payer"]:
        payer = _account(session, values["claim_payer"], kinds=("payor", "tpa"),
                         what="claim payor or TPA")
        claim_payer = payer.id
    if claim_payer and not values["claim_number"]:
        raise InvalidInput("A claim payor is given without a claim number.")
    return _Details(
        report_type=report_type, provider_id=provider.id, state=provider.state or "",
        service_date=service_date, last_name=values["patient_last_name"],
        first_name=values["patient_first_name"], date_of_birth=date_of_birth,
        employee_id=values["employee_id"], employer_id=employer.id,
        injury=_injury(values["injury"]), claim_number=values["claim_number"] or None,
        claim_payer=claim_payer,
    )


def _account(session: Session, name: str, *, kinds: tuple[str, ...], what: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None or account.kind not in kinds:
        raise InvalidInput(f"No {what} account has this name.")
    if account.deactivated_at is not None:
        raise InvalidInput(f"This {what} account is deactivated: reports are no longer posted to it.")
    return account


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"The {what} must be a date written as YYYY-MM-DD.") from None


def _injury(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput("Injury must be 'yes' or 'no'.")


def _audit_rejection(db: Database, principal: Principal, reason: str) -> None:
    with transaction(db) as session:
        audit.record(session, action="report.rejected", outcome="failure",
                     actor_user_id=principal.user_id, actor_email=principal.email,
                     details={"reason": reason})


@dataclass(frozen=True)
class UploadChoices:
    """What the upload form offers: the uploader's providers, the client accounts and the
    report types that take uploads."""

    providers: dict[str, str]  # NPI -> "name (NPI)"
    employers: list[str]
    claim_payers: list[str]
    report_types: dict[str, str] = field(default_factory=dict)  # code -> name, active only
    # The uploader's deactivated providers ("name (NPI)"): not offered, and the form says why.
    deactivated: list[str] = field(default_factory=list)


def upload_choices(db: Database, principal: Principal) -> UploadChoices:
    with transaction(db, write=False) as session:
        principal.require(Action.UPLOAD_REPORTS)
        query = (select(Provider.npi, Provider.name, Provider.deactivated_at)
                 .where(reach.provider_condition(principal))
                 .order_by(Provider.name))
        providers, deactivated = {}, []
        for npi, name, deactivated_at in session.execute(query):
            if deactivated_at is None:
                providers[npi] = f"{name} ({npi})"
            else:  # a deactivated provider takes no uploads
                deactivated.append(f"{name} ({npi})")
        accounts = session.execute(select(Account.name, Account.kind)
                                   .where(Account.deactivated_at.is_(None))
                                   .order_by(Account.name)).all()
        types = {kind.code: kind.name for kind in report_types.active_types(session)}
    return UploadChoices(
        providers=providers,
        employers=[name for name, kind in accounts if kind == "employer"],
        claim_payers=[name for name, kind in accounts if kind in ("payor", "tpa")],
        report_types=types,
        deactivated=deactivated,
    )
