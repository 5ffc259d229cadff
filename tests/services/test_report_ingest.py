"""Posting report PDFs: a good upload becomes one report with its blob, patient, routing and audit
event; every bad file and every bad detail is rejected on its own with a reason and leaves the
database and the blob store as they were; the same file twice is one report; only uploaders may
post, and only for their own providers. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import (
    Account,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    ReportPreview,
    ReportRecipient,
)
from services.errors import PermissionDenied
from services.principals import Principal
from services.reports import pdf_check, routing
from services.reports.ingest import FIELDS, IngestOutcome, ReportUpload, ingest, upload_choices
from tests.conftest import START
from tests.fixtures import bad_pdfs
from tests.services.report_world import events, load_principal, npi_number, pdf_for

GENERIC_FAILURE = "The report could not be stored. Try again, and contact support if it persists."
OUT_OF_SCOPE = "You cannot post reports for this provider."

ACCOUNTS = {"acme": ("Acme Freight", "employer"), "payco": ("Payco Mutual", "payor"),
            "claimsco": ("Claims Partners", "tpa")}
GROUPS = {"north": "Northside Clinics", "south": "Southside Clinics"}
PROVIDERS = {  # key: (group, name, state)
    "p1": ("north", "Northside Main", "TX"),
    "p2": ("north", "Northside East", "OK"),
    "p3": ("south", "Southside Main", "CA"),
}
USERS = {  # key: make_user keyword arguments, by key
    "admin_p1": dict(provider=(("north", "p1", "provider_admin"),)),
    "admin_p3": dict(provider=(("south", "p3", "provider_admin"),)),
    "gadmin": dict(provider=(("north", None, "provider_group_admin"),)),
    "staff_p1": dict(provider=(("north", "p1", "provider_staff"),)),
    "client": dict(accounts=(("acme", "account_user"),)),
    "sysadmin": dict(staff=("system_admin",)),
}


@dataclass
class Desk:
    db: Database
    store: BlobStore
    account: dict[str, int]
    group: dict[str, int]
    provider: dict[str, int]
    npi: dict[str, str]
    user: dict[str, int]

    def principal(self, key: str) -> Principal:
        return load_principal(self.db, self.user[key])


def build_desk(db: Database, make_user, store: BlobStore) -> Desk:
    """Accounts, two provider groups with three providers, and one user per uploader role."""
    with db.transaction() as session:
        accounts = {key: Account(name=name, kind=kind, created_at=START)
                    for key, (name, kind) in ACCOUNTS.items()}
        groups = {key: ProviderGroup(name=name, npi=npi_number(n), created_at=START)
                  for n, (key, name) in enumerate(GROUPS.items(), start=1)}
        session.add_all([*accounts.values(), *groups.values()])
        session.flush()
        providers = {key: Provider(group_id=groups[group].id, name=name, npi=npi_number(10 + n),
                                   state=state)
                     for n, (key, (group, name, state)) in enumerate(PROVIDERS.items(), start=1)}
        session.add_all(providers.values())
        session.flush()
        account_ids = {k: v.id for k, v in accounts.items()}
        group_ids = {k: v.id for k, v in groups.items()}
        provider_ids = {k: v.id for k, v in providers.items()}
        npis = {k: v.npi for k, v in providers.items()}
    user_ids = {}
    for key, spec in USERS.items():
        kwargs = {}
        if "staff" in spec:
            kwargs["staff"] = spec["staff"]
        if "accounts" in spec:
            kwargs["accounts"] = tuple((account_ids[a], role) for a, role in spec["accounts"])
        if "provider" in spec:
            kwargs["provider"] = tuple((group_ids[g], None if p is None else provider_ids[p], role)
                                       for g, p, role in spec["provider"])
        user_ids[key] = make_user(f"{key}@x.test", name=key.title(), **kwargs)
    return Desk(db=db, store=store, account=account_ids, group=group_ids, provider=provider_ids,
                npi=npis, user=user_ids)


@pytest.fixture
def desk(db, fake_clock, make_user, tmp_path) -> Desk:
    return build_desk(db, make_user, BlobStore(tmp_path / "blobs"))


def valid_fields(desk: Desk, **overrides: str) -> dict[str, str]:
    """Details that pass every check (service date before conftest.START, 2026-11-02)."""
    values = {
        "report_type": "ccf", "provider_npi": desk.npi["p1"], "service_date": "2026-10-30",
        "patient_last_name": "Gonzalez", "patient_first_name": "Maria",
        "patient_date_of_birth": "1980-04-01", "employee_id": "E100", "employer": "Acme Freight",
        "injury": "no", "claim_number": "", "claim_payer": "",
    }
    assert set(values) == set(FIELDS)
    values.update(overrides)
    return values


def upload(desk: Desk, label: str, data: bytes | None = None, **overrides: str) -> ReportUpload:
    return ReportUpload(label, pdf_for(label, 1) if data is None else data,
                        valid_fields(desk, **overrides))


def blob_files(store: BlobStore) -> list[Path]:
    """Every file under the blob root, whatever its name."""
    if not store.root.exists():
        return []
    return sorted(path for path in store.root.rglob("*") if path.is_file())


def pdf_files(store: BlobStore) -> list[Path]:
    """The stored PDFs (each may have its first-page picture beside it)."""
    return [path for path in blob_files(store) if path.suffix == ".pdf"]


def preview_of(desk: Desk, sha256: str) -> tuple[str | None, str, bytes | None]:
    """The file's preview row (status, reason) and its stored picture."""
    with desk.db.transaction(write=False) as session:
        row = session.get(ReportPreview, sha256)
    status, reason = (row.status, row.reason) if row else (None, "")
    return status, reason, desk.store.get_preview(sha256)


def count(db: Database, model) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def recipients_of(db: Database, report_id: int) -> set[int]:
    with db.transaction(write=False) as session:
        return set(session.scalars(select(ReportRecipient.account_id)
                                   .where(ReportRecipient.report_id == report_id)))


def assert_nothing_written(desk: Desk) -> None:
    assert count(desk.db, Report) == 0
    assert count(desk.db, Patient) == 0
    assert count(desk.db, ReportRecipient) == 0
    assert blob_files(desk.store) == []


# --- a good upload ---------------------------------------------------------------------------

def test_a_valid_upload_posts_one_report_with_its_file_patient_routing_and_audit(desk):
    data = pdf_for("injury-visit", 2)
    admin = desk.principal("admin_p1")
    outcomes = ingest(desk.db, admin, [ReportUpload("visit.pdf", data, valid_fields(
        desk, report_type="injury_status", service_date="2026-10-28", injury="yes",
        claim_number="CLM-77", claim_payer="Payco Mutual", employee_id=" E100 "))],
        blob_store=desk.store)

    assert len(outcomes) == 1
    outcome = outcomes[0]
    assert (outcome.label, outcome.result, outcome.reason) == ("visit.pdf", "posted", "")
    sha256 = hashlib.sha256(data).hexdigest()
    with desk.db.transaction(write=False) as session:
        report = session.get(Report, outcome.report_id)
        patient = session.get(Patient, report.patient_id)
    assert report.report_type == "injury_status"
    assert report.provider_id == desk.provider["p1"]
    assert report.service_date == date(2026, 10, 28)
    assert report.injury is True
    assert report.claim_number == "CLM-77"
    assert report.state == "TX"  # the provider's state
    assert report.posted_at == report.delivered_at == START
    assert report.status == "available"
    assert (report.file_sha256, report.file_size, report.page_count) == (sha256, len(data), 2)
    # The bytes are in the blob store under their hash, and nothing else is.
    assert desk.store.exists(sha256) and desk.store.get(sha256) == data
    assert pdf_files(desk.store) == [desk.store.root / sha256[:2] / f"{sha256}.pdf"]
    # Its first page was drawn once, at upload, and kept beside it.
    status, _, png = preview_of(desk, sha256)
    assert status == "ready" and png is not None and png.startswith(b"\x89PNG")
    assert outcome.preview_problem == ""
    # The patient was created for the employer (values trimmed).
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.employee_id,
            patient.employer_account_id) == ("Maria", "Gonzalez", date(1980, 4, 1), "E100",
                                             desk.account["acme"])
    assert count(desk.db, Patient) == 1
    # Injury care with a claim payor: the employer and the payor.
    assert recipients_of(desk.db, report.id) == {desk.account["acme"], desk.account["payco"]}

    posted = events(desk.db, "report.posted")
    assert len(posted) == 1
    assert (posted[0].actor_user_id, posted[0].actor_email, posted[0].target_type,
            posted[0].target_id, posted[0].outcome) == (
        admin.user_id, admin.email, "report", str(report.id), "success")
    assert posted[0].details == {"report_type": "injury_status", "recipients": 2}
    assert events(desk.db, "report.rejected") == []


def test_routing_follows_the_report_type_and_the_claim_payer(desk):
    outcomes = ingest(desk.db, desk.principal("admin_p1"), [
        # An employer-only letter stays with the employer, even with a claim payor given.
        upload(desk, "first-notice", report_type="first_notice", injury="yes",
               claim_number="CLM-1", claim_payer="Payco Mutual"),
        # Injury care with a claim payor: employer and payor.
        upload(desk, "status-payor", report_type="injury_status", injury="yes",
               claim_number="CLM-2", claim_payer="Payco Mutual"),
        # Likewise with a TPA; the type given by its label, any case.
        upload(desk, "status-tpa", report_type="INJURY ACTIVITY STATUS REPORT", injury="Y",
               claim_number="CLM-3", claim_payer="Claims Partners"),
        # A TPA does not get the employer-only recheck reminder either.
        upload(desk, "recheck-tpa", report_type="recheck_reminder", injury="yes",
               claim_number="CLM-4", claim_payer="Claims Partners"),
        # No claim: the employer only.
        upload(desk, "ccf", report_type="ccf", injury="no"),
    ], blob_store=desk.store)

    assert [o.result for o in outcomes] == ["posted"] * 5, outcomes
    acme, payco, tpa = desk.account["acme"], desk.account["payco"], desk.account["claimsco"]
    assert [recipients_of(desk.db, o.report_id) for o in outcomes] == [
        {acme}, {acme, payco}, {acme, tpa}, {acme}, {acme}]
    with desk.db.transaction(write=False) as session:
        types = [session.get(Report, o.report_id).report_type for o in outcomes]
    assert types == ["first_notice", "injury_status", "injury_status", "recheck_reminder", "ccf"]
    assert [e.details["recipients"] for e in events(desk.db, "report.posted")] == [1, 2, 2, 1, 1]
    # One patient (same employee of the same employer), five blobs.
    assert count(desk.db, Patient) == 1
    assert len(pdf_files(desk.store)) == 5


# --- acceptance: a batch with every kind of bad file ----------------------------------------

def test_a_batch_with_bad_files_rejects_each_with_its_reason_and_posts_the_good_ones(
        desk, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_MAX_REPORT_MB", "0.05")   # 52,428 bytes
    monkeypatch.setenv("RESULTSDESK_PDF_CHECK_SECONDS", "2")
    good_a, good_b = pdf_for("valid-a", 1), pdf_for("valid-b", 3)
    assert max(len(good_a), len(good_b)) < 0.05 * 1024 * 1024
    # slow_to_parse_pdf's defaults: about 3 s of CPU per page, 60 pages, so minutes in all;
    # the first page alone outlasts the 2-second limit.
    batch = [
        upload(desk, "a.pdf", good_a),
        upload(desk, "truncated.pdf", bad_pdfs.truncated_pdf(), employee_id="E2"),
        upload(desk, "notes.pdf", bad_pdfs.text_renamed_pdf(), employee_id="E3"),
        upload(desk, "scan.pdf", bad_pdfs.oversized_pdf(60_000), employee_id="E4"),
        upload(desk, "slow.pdf", bad_pdfs.slow_to_parse_pdf(), employee_id="E5"),
        upload(desk, "b.pdf", good_b, patient_first_name="John", patient_last_name="Smith",
               employee_id="E200", patient_date_of_birth="1975-02-03"),
    ]
    progress = []

    outcomes = ingest(desk.db, desk.principal("admin_p1"), batch, blob_store=desk.store,
                      progress=lambda done, total, outcome: progress.append((done, total, outcome)))

    assert [o.label for o in outcomes] == ["a.pdf", "truncated.pdf", "notes.pdf", "scan.pdf",
                                           "slow.pdf", "b.pdf"]
    assert [o.result for o in outcomes] == ["posted", "rejected", "rejected", "rejected",
                                            "rejected", "posted"], outcomes
    reasons = [o.reason for o in outcomes[1:5]]
    assert "damaged or incomplete" in reasons[0]
    assert "not a PDF file" in reasons[1]
    assert "larger than the 51 KB limit" in reasons[2]
    assert "took longer than 2 seconds" in reasons[3]
    assert len(set(reasons)) == 4
    assert all(o.report_id is None for o in outcomes[1:5])
    assert progress == [(n, 6, outcome) for n, outcome in enumerate(outcomes, start=1)]

    # Database and blob store hold exactly the two good reports.
    with desk.db.transaction(write=False) as session:
        reports = session.scalars(select(Report).order_by(Report.id)).all()
    assert [r.id for r in reports] == [outcomes[0].report_id, outcomes[5].report_id]
    assert [r.file_sha256 for r in reports] == [hashlib.sha256(good_a).hexdigest(),
                                                hashlib.sha256(good_b).hexdigest()]
    assert [r.page_count for r in reports] == [1, 3]
    assert sorted(path.name for path in pdf_files(desk.store)) == sorted(
        f"{r.file_sha256}.pdf" for r in reports)
    assert count(desk.db, Patient) == 2  # the rejected uploads' employees were not created
    assert len(events(desk.db, "report.posted")) == 2
    assert [e.details["reason"] for e in events(desk.db, "report.rejected")] == reasons


def test_empty_encrypted_pageless_and_too_long_files_are_rejected_too(desk, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_MAX_REPORT_PAGES", "2")
    outcomes = ingest(desk.db, desk.principal("admin_p1"), [
        upload(desk, "empty.pdf", b""),
        upload(desk, "locked.pdf", bad_pdfs.encrypted_pdf()),
        upload(desk, "blank.pdf", bad_pdfs.no_pages_pdf()),
        upload(desk, "long.pdf", pdf_for("three-pages", 3)),
    ], blob_store=desk.store)

    assert [o.result for o in outcomes] == ["rejected"] * 4, outcomes
    assert [o.reason for o in outcomes] == [
        pdf_check.EMPTY,
        pdf_check.ENCRYPTED,
        pdf_check.NO_PAGES,
        "This PDF has 3 pages; the limit is 2.",
    ]
    assert_nothing_written(desk)


# --- the same file twice ---------------------------------------------------------------------

def test_the_same_file_twice_is_one_report(desk):
    data = pdf_for("twice", 1)
    admin = desk.principal("admin_p1")

    first, again = ingest(desk.db, admin, [upload(desk, "one.pdf", data),
                                           upload(desk, "one-again.pdf", data)],
                          blob_store=desk.store)
    later, = ingest(desk.db, admin, [upload(desk, "one-later.pdf", data)], blob_store=desk.store)

    assert first.result == "posted"
    for duplicate, label in ((again, "one-again.pdf"), (later, "one-later.pdf")):
        assert (duplicate.label, duplicate.result, duplicate.report_id) == (
            label, "duplicate", first.report_id)
        assert f"already posted as report {first.report_id}" in duplicate.reason
    assert count(desk.db, Report) == 1
    assert count(desk.db, ReportRecipient) == 1
    assert len(pdf_files(desk.store)) == 1
    assert len(events(desk.db, "report.posted")) == 1


def test_identical_bytes_from_another_clinic_are_that_clinics_own_report(desk):
    data = pdf_for("same scan", 1)
    sha256 = hashlib.sha256(data).hexdigest()
    north, = ingest(desk.db, desk.principal("admin_p1"), [upload(desk, "north.pdf", data)],
                    blob_store=desk.store)
    south, = ingest(desk.db, desk.principal("admin_p3"), [upload(
        desk, "south.pdf", data, provider_npi=desk.npi["p3"], employee_id="S-9",
        patient_last_name="Okafor", patient_first_name="Ada")], blob_store=desk.store)

    assert (north.result, south.result) == ("posted", "posted")
    assert south.report_id != north.report_id
    # Nothing about the other clinic's report: no id, no word of a duplicate.
    assert south.reason == "" and south.preview_problem == ""
    assert str(north.report_id) not in repr(south)
    with desk.db.transaction(write=False) as session:
        report = session.get(Report, south.report_id)
        patient = session.get(Patient, report.patient_id)
    assert (report.provider_id, report.file_sha256) == (desk.provider["p3"], sha256)
    assert (patient.last_name, patient.employee_id) == ("Okafor", "S-9")
    # One stored file and one picture, shared.
    assert len(pdf_files(desk.store)) == 1
    assert preview_of(desk, sha256)[0] == "ready"


def test_within_a_group_admins_reach_the_same_bytes_are_a_duplicate(desk):
    data = pdf_for("group scan", 1)
    first, = ingest(desk.db, desk.principal("admin_p1"), [upload(desk, "p1.pdf", data)],
                    blob_store=desk.store)
    # The group admin posts the same bytes for the group's other provider: one report.
    again, = ingest(desk.db, desk.principal("gadmin"), [upload(
        desk, "p2.pdf", data, provider_npi=desk.npi["p2"])], blob_store=desk.store)
    assert (again.result, again.report_id) == ("duplicate", first.report_id)
    # Staff with the upload action reach every provider.
    staff, = ingest(desk.db, desk.principal("sysadmin"), [upload(
        desk, "p3.pdf", data, provider_npi=desk.npi["p3"])], blob_store=desk.store)
    assert (staff.result, staff.report_id) == ("duplicate", first.report_id)
    assert count(desk.db, Report) == 1


class Competitor:
    """Another upload of the same file, started right after this upload's blob put and before
    its rows are committed: the moment a concurrent upload can get in between.

    It runs in its own thread. If this upload holds a lock the competitor needs (a database
    write lock or an advisory lock on the file), the competitor waits for it: this upload goes
    on after WAIT seconds (less than SQLite's 5-second busy timeout) and the competitor
    finishes once the lock is released. Without such a lock the competitor finishes first.
    """

    WAIT = 3.0

    def __init__(self, run) -> None:
        self.run = run
        self.outcomes: list[IngestOutcome] = []
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        def target() -> None:
            try:
                self.outcomes.extend(self.run())
            except BaseException as error:  # noqa: BLE001 - re-raised by outcome()
                self.error = error

        self.thread = threading.Thread(target=target)
        self.thread.start()
        self.thread.join(timeout=self.WAIT)

    def outcome(self) -> IngestOutcome:
        assert self.thread is not None, "the competitor never started"
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the competing upload never finished"
        if self.error is not None:
            raise self.error
        outcome, = self.outcomes
        return outcome


class StartAfterPut(BlobStore):
    """A blob store that starts a Competitor once, right after a put."""

    def __init__(self, root: Path, competitor: Competitor) -> None:
        super().__init__(root)
        self.competitor: Competitor | None = competitor

    def put(self, data: bytes) -> str:
        digest = super().put(data)
        competitor, self.competitor = self.competitor, None
        if competitor is not None:
            competitor.start()
        return digest


def test_two_uploads_of_the_same_file_at_once_are_one_report(desk):
    admin = desk.principal("admin_p1")
    data = pdf_for("raced", 1)
    other = Competitor(lambda: ingest(desk.db, admin, [upload(desk, "other.pdf", data)],
                                      blob_store=desk.store))

    mine, = ingest(desk.db, admin, [upload(desk, "mine.pdf", data)],
                   blob_store=StartAfterPut(desk.store.root, other))
    theirs = other.outcome()

    # Whichever commits first posts; the other is a duplicate of it.
    assert sorted([mine.result, theirs.result]) == ["duplicate", "posted"], (mine, theirs)
    assert mine.report_id == theirs.report_id is not None
    assert count(desk.db, Report) == 1
    assert desk.store.exists(hashlib.sha256(data).hexdigest())  # the posted report's file stays
    assert len(pdf_files(desk.store)) == 1
    assert events(desk.db, "report.rejected") == []


def test_a_failing_upload_of_the_same_file_never_removes_a_blob_another_upload_is_posting(desk):
    admin = desk.principal("admin_p1")
    first, = ingest(desk.db, admin, [upload(desk, "maria.pdf")], blob_store=desk.store)
    assert first.result == "posted"   # employee E100 is now Maria Gonzalez
    data = pdf_for("shared", 1)
    # Another clinic (another reach, so not a duplicate) posts the same bytes with a typo.
    typo = Competitor(lambda: ingest(
        desk.db, desk.principal("admin_p3"),
        [upload(desk, "typo.pdf", data, patient_first_name="Marta", provider_npi=desk.npi["p3"])],
        blob_store=desk.store))

    mine, = ingest(desk.db, admin, [upload(desk, "mine.pdf", data)],
                   blob_store=StartAfterPut(desk.store.root, typo))
    theirs = typo.outcome()

    assert theirs.result == "rejected"
    assert "different name" in theirs.reason
    assert mine.result == "posted"
    sha256 = hashlib.sha256(data).hexdigest()
    with desk.db.transaction(write=False) as session:
        assert session.get(Report, mine.report_id).file_sha256 == sha256
    assert desk.store.exists(sha256), "report posted without its PDF"


# --- bad details -----------------------------------------------------------------------------

BAD_DETAILS = [
    pytest.param({"patient_last_name": ""}, "Missing patient last name.", id="missing-field"),
    pytest.param({"employee_id": "   ", "injury": ""}, "Missing employee id, injury.",
                 id="missing-fields-blank"),
    pytest.param({"report_type": "x-ray"}, "Unknown report type.", id="unknown-type"),
    pytest.param({"provider_npi": npi_number(99)}, "No provider is registered with this provider NPI.",
                 id="unknown-npi"),
    pytest.param({"service_date": "2026-11-03"}, "The service date must be a past date.",
                 id="future-service-date"),
    pytest.param({"service_date": "10/30/2026"},
                 "The service date must be a date written as YYYY-MM-DD.", id="bad-date-format"),
    pytest.param({"patient_date_of_birth": "2026-10-31"},
                 "The date of birth must be before the service date.", id="born-after-service"),
    pytest.param({"employer": "Nobody Inc"}, "No employer account has this name.",
                 id="unknown-employer"),
    pytest.param({"employer": "Payco Mutual"}, "No employer account has this name.",
                 id="employer-is-a-payor"),
    pytest.param({"claim_payer": "Acme Freight", "claim_number": "CLM-1"},
                 "No claim payor or TPA account has this name.", id="payer-is-an-employer"),
    pytest.param({"claim_payer": "Payco Mutual"}, "A claim payor is given without a claim number.",
                 id="payor-without-claim-number"),
    pytest.param({"injury": "maybe"}, "Injury must be 'yes' or 'no'.", id="injury-maybe"),
]


@pytest.mark.parametrize("overrides, reason", BAD_DETAILS)
def test_bad_details_are_rejected_with_a_reason_and_nothing_is_written(desk, overrides, reason):
    admin = desk.principal("admin_p1")

    outcome, = ingest(desk.db, admin, [upload(desk, "bad.pdf", **overrides)], blob_store=desk.store)

    assert outcome == IngestOutcome("bad.pdf", "rejected", None, reason)
    assert_nothing_written(desk)
    rejected = events(desk.db, "report.rejected")
    assert [(e.actor_user_id, e.outcome, e.details) for e in rejected] == [
        (admin.user_id, "failure", {"reason": reason})]
    assert events(desk.db, "report.posted") == []
    assert events(desk.db, "permission.denied") == []


def test_a_provider_outside_the_uploaders_scope_is_refused_and_audited(desk):
    admin = desk.principal("admin_p1")

    outcome, = ingest(desk.db, admin, [upload(desk, "p2.pdf", provider_npi=desk.npi["p2"])],
                      blob_store=desk.store)

    assert (outcome.result, outcome.report_id, outcome.reason) == ("rejected", None, OUT_OF_SCOPE)
    assert_nothing_written(desk)
    denied = events(desk.db, "permission.denied")
    assert [(e.actor_user_id, e.actor_email, e.target_type, e.target_id, e.outcome, e.details)
            for e in denied] == [(admin.user_id, admin.email, "provider", str(desk.provider["p2"]),
                                  "denied", {"action": "upload_reports"})]


def test_an_employee_id_on_file_with_another_name_is_rejected_and_its_blob_removed(desk):
    admin = desk.principal("admin_p1")
    first_pdf, clash_pdf = pdf_for("maria", 1), pdf_for("marta", 1)
    first, = ingest(desk.db, admin, [upload(desk, "maria.pdf", first_pdf)], blob_store=desk.store)
    assert first.result == "posted"

    clash, = ingest(desk.db, admin, [upload(desk, "marta.pdf", clash_pdf, patient_first_name="Marta")],
                    blob_store=desk.store)

    assert clash.result == "rejected" and clash.report_id is None
    assert "already on file for the employer with a different name" in clash.reason
    assert count(desk.db, Report) == 1
    assert count(desk.db, Patient) == 1
    assert [path.name for path in pdf_files(desk.store)] == [
        f"{hashlib.sha256(first_pdf).hexdigest()}.pdf"]
    assert not desk.store.exists(hashlib.sha256(clash_pdf).hexdigest())
    assert [e.details["reason"] for e in events(desk.db, "report.rejected")] == [clash.reason]

    # Names compare without case; with the details corrected the same file posts.
    fixed, = ingest(desk.db, admin, [upload(desk, "marta.pdf", clash_pdf, patient_first_name="MARIA",
                                            patient_last_name="gonzalez")],
                    blob_store=desk.store)
    assert fixed.result == "posted"
    assert count(desk.db, Patient) == 1
    assert len(pdf_files(desk.store)) == 2


# --- a failure while writing -----------------------------------------------------------------

def test_a_failure_while_writing_rows_removes_the_blob_and_the_file_can_be_posted_again(
        desk, monkeypatch):
    admin = desk.principal("admin_p1")
    data = pdf_for("unlucky", 1)

    def broken_routing(*args, **kwargs):
        raise RuntimeError("routing table unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(routing, "recipients", broken_routing)
        failed, = ingest(desk.db, admin, [upload(desk, "unlucky.pdf", data)], blob_store=desk.store)

    assert failed == IngestOutcome("unlucky.pdf", "rejected", None, GENERIC_FAILURE)
    assert_nothing_written(desk)  # the report and patient rows were rolled back with the blob
    assert [e.details for e in events(desk.db, "report.rejected")] == [{"reason": GENERIC_FAILURE}]
    assert "routing table" not in str(events(desk.db, "report.rejected")[0].details)

    retried, = ingest(desk.db, admin, [upload(desk, "unlucky.pdf", data)], blob_store=desk.store)
    assert retried.result == "posted"
    assert count(desk.db, Report) == 1
    assert [path.name for path in pdf_files(desk.store)] == [f"{hashlib.sha256(data).hexdigest()}.pdf"]


# --- who may post ----------------------------------------------------------------------------

def test_users_without_the_upload_permission_are_refused_and_audited(desk):
    principal = desk.principal("client")

    with pytest.raises(PermissionDenied):
        ingest(desk.db, principal, [upload(desk, "a.pdf")], blob_store=desk.store)
    with pytest.raises(PermissionDenied):
        upload_choices(desk.db, principal)

    assert_nothing_written(desk)
    denied = events(desk.db, "permission.denied")
    assert [(e.actor_user_id, e.target_type, e.details) for e in denied] == [
        (principal.user_id, None, {"action": "upload_reports"})] * 2
    assert events(desk.db, "report.rejected") == []


def test_a_group_admin_posts_for_every_provider_of_the_group_and_no_other(desk):
    outcomes = ingest(desk.db, desk.principal("gadmin"), [
        upload(desk, "p1.pdf", provider_npi=desk.npi["p1"]),
        upload(desk, "p2.pdf", provider_npi=desk.npi["p2"]),
        upload(desk, "p3.pdf", provider_npi=desk.npi["p3"]),
    ], blob_store=desk.store)

    assert [o.result for o in outcomes] == ["posted", "posted", "rejected"]
    assert outcomes[2].reason == OUT_OF_SCOPE
    with desk.db.transaction(write=False) as session:
        posted = [session.get(Report, o.report_id) for o in outcomes[:2]]
    assert [(r.provider_id, r.state) for r in posted] == [(desk.provider["p1"], "TX"),
                                                          (desk.provider["p2"], "OK")]
    assert [e.target_id for e in events(desk.db, "permission.denied")] == [str(desk.provider["p3"])]
    assert len(pdf_files(desk.store)) == 2


def test_provider_staff_post_for_their_own_provider_and_no_other(desk):
    staff = desk.principal("staff_p1")
    outcomes = ingest(desk.db, staff, [
        upload(desk, "p1.pdf", provider_npi=desk.npi["p1"]),
        upload(desk, "p2.pdf", provider_npi=desk.npi["p2"]),
    ], blob_store=desk.store)

    assert [o.result for o in outcomes] == ["posted", "rejected"]
    assert outcomes[1].reason == OUT_OF_SCOPE
    assert list(upload_choices(desk.db, staff).providers) == [desk.npi["p1"]]
    assert [e.target_id for e in events(desk.db, "permission.denied")] == [str(desk.provider["p2"])]


def test_a_system_admin_may_post_for_any_provider(desk):
    outcome, = ingest(desk.db, desk.principal("sysadmin"),
                      [upload(desk, "p3.pdf", provider_npi=desk.npi["p3"])], blob_store=desk.store)
    assert outcome.result == "posted"
    with desk.db.transaction(write=False) as session:
        assert session.get(Report, outcome.report_id).state == "CA"


# --- the upload form's choices ---------------------------------------------------------------

def test_upload_choices_offer_only_the_uploaders_providers(desk):
    label = {key: f"{PROVIDERS[key][1]} ({desk.npi[key]})" for key in PROVIDERS}

    mine = upload_choices(desk.db, desk.principal("admin_p1"))
    assert mine.providers == {desk.npi["p1"]: label["p1"]}
    assert mine.employers == ["Acme Freight"]
    assert mine.claim_payers == ["Claims Partners", "Payco Mutual"]

    group = upload_choices(desk.db, desk.principal("gadmin"))
    assert group.providers == {desk.npi[k]: label[k] for k in ("p1", "p2")}

    everyone = upload_choices(desk.db, desk.principal("sysadmin"))
    assert everyone.providers == {desk.npi[k]: label[k] for k in PROVIDERS}
    assert events(desk.db, "permission.denied") == []
