"""The demo seed: every report type, valid NPIs, logins with their roles, real PDFs, routing
that follows what each kind of account receives, 60-day archiving, and repeatable output.

Self-contained: each database is a fresh SQLite file brought to the newest schema here.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from db.blob_store import BlobStore
from db.engine import Database
from db.migrate import upgrade
from db.models import (
    Account,
    AccountMembership,
    AuditEvent,
    Membership,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    ReportRecipient,
    StaffRole,
    User,
)
from services.demo import seed
from services.identity import passwords, terms
from services.organizations import npi
from services.reports import report_types

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=timezone.utc)
REPORTS = 120
PATIENTS = 60

# What each kind of account receives, from the results-portal FAQ (written out again here on
# purpose, so a change to the seed's own tables cannot quietly move both sides).
PAYOR_TYPES = {"atf", "ccf", "injury_status", "referral", "no_show", "transcription",
               "transcription_summary", "state_wc_form"}
EMPLOYER_TYPES = PAYOR_TYPES | {"recheck_reminder", "first_notice"}
INJURY_TYPES = {"injury_status", "first_notice", "transcription", "state_wc_form", "referral",
                "recheck_reminder"}
NON_INJURY_TYPES = {"atf", "ccf", "no_show"}


def _fresh_database(path) -> Database:
    db = Database(f"sqlite:///{path / 'demo.db'}")
    upgrade(db)
    return db


@pytest.fixture
def cheap_hashing(monkeypatch):
    """A stand-in for bcrypt (cost 12, ~0.25 s) in seeds that only compare report data.

    The one hashing-heavy seed is the shared `seeded` fixture below: it keeps real bcrypt, and
    test_demo_logins_exist_with_their_roles proves the published password opens those logins.
    """
    monkeypatch.setattr(passwords, "hash_password", lambda password: "not-a-bcrypt-hash")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo-seed")
    db = _fresh_database(path)
    store = BlobStore(path / "blobs")
    calls: list[tuple[int, int]] = []
    summary = seed.seed(db, blob_store=store, reports=REPORTS, patients=PATIENTS, now=NOW,
                             progress=lambda done, total: calls.append((done, total)))
    yield db, store, summary, calls
    db.dispose()


def _all(db: Database, statement):
    with db.transaction(write=False) as session:
        return session.execute(statement).all()


def _report_hashes(db: Database) -> list[str]:
    return [sha for (sha,) in _all(db, select(Report.file_sha256).order_by(Report.id))]


def test_every_report_type_appears_and_counts_add_up(seeded):
    db, _, summary, calls = seeded
    counts = dict(_all(db, select(Report.report_type, func.count()).group_by(Report.report_type)))
    assert set(counts) == set(report_types.names(db))
    assert sum(counts.values()) == REPORTS == summary.reports
    assert dict(summary.reports_by_type) == counts
    [(patients,)] = _all(db, select(func.count()).select_from(Patient))
    assert patients == PATIENTS == summary.patients
    assert calls == [(REPORTS, REPORTS)]  # fewer than 250 reports: one call, at the end


def test_every_npi_is_valid_and_unique(seeded):
    db, *_ = seeded
    groups = [n for (n,) in _all(db, select(ProviderGroup.npi))]
    providers = _all(db, select(Provider.npi, Provider.group_id, Provider.state))
    assert len(groups) == 2
    assert all(2 <= sum(1 for _, g, _ in providers if g == group_id) <= 3
               for (group_id,) in _all(db, select(ProviderGroup.id)))
    numbers = groups + [n for n, _, _ in providers]
    assert all(npi.is_valid(n) for n in numbers), numbers
    assert len(set(numbers)) == len(numbers)
    assert all(len(state) == 2 and state.isupper() for _, _, state in providers)


def test_accounts_by_kind(seeded):
    db, *_ = seeded
    kinds = dict(_all(db, select(Account.kind, func.count()).group_by(Account.kind)))
    assert kinds == {"employer": 3, "payor": 2, "tpa": 1}


def test_demo_logins_exist_with_their_roles(seeded):
    db, *_ = seeded
    with db.transaction(write=False) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        staff = dict(session.execute(select(StaffRole.user_id, StaffRole.role)).all())
        links = {m.user_id: (m.group_id, m.provider_id, m.role) for m in session.scalars(select(Membership))}
        client = {m.user_id: (m.account_id, m.role) for m in session.scalars(select(AccountMembership))}
        first_group = session.scalar(select(ProviderGroup.id).order_by(ProviderGroup.id).limit(1))
        first_provider = session.scalar(select(Provider.id).where(Provider.group_id == first_group)
                                        .order_by(Provider.id).limit(1))

        def first_account(kind):
            return session.scalar(select(Account.id).where(Account.kind == kind)
                                  .order_by(Account.id).limit(1))

        employer, payor, tpa = first_account("employer"), first_account("payor"), first_account("tpa")

    assert set(users) == {email for email, _ in seed.DEMO_LOGINS}
    expected_staff = {"admin@demo.test": "system_admin", "support@demo.test": "support_rep",
                      "accounts@demo.test": "account_rep", "privacy@demo.test": "privacy_officer",
                      "manager@demo.test": "manager"}
    for email, role in expected_staff.items():
        assert staff[users[email].id] == role
    assert users["admin@demo.test"].name == "Avery Admin"
    assert links[users["groupadmin@demo.test"].id] == (first_group, None, "provider_group_admin")
    assert links[users["clinicadmin@demo.test"].id] == (first_group, first_provider, "provider_admin")
    assert links[users["clinic@demo.test"].id] == (first_group, first_provider, "provider_staff")
    assert client[users["employer@demo.test"].id] == (employer, "account_user")
    assert client[users["payor@demo.test"].id] == (payor, "account_user")
    assert client[users["tpa@demo.test"].id] == (tpa, "account_user")
    assert len(staff) + len(links) + len(client) == len(users)  # one role each, no extras

    # Demo logins start with the current terms accepted, so a demo goes straight in.
    assert all(u.status == "active" and u.terms_accepted_at == NOW and u.created_at == NOW
               and u.terms_version == terms.current_version(db) for u in users.values())
    # Every login shares one hash, so checking one proves the published password for all.
    assert len({u.password_hash for u in users.values()}) == 1
    assert passwords.verify_password(seed.DEMO_PASSWORD, users["admin@demo.test"].password_hash)


def test_every_report_has_its_pdf_naming_patient_and_type(seeded):
    db, store, summary, _ = seeded
    rows = _all(db, select(Report.report_type, Report.file_sha256, Report.file_size, Report.page_count,
                           Report.claim_number, Patient.last_name)
                .join(Patient, Patient.id == Report.patient_id))
    assert len({sha for _, sha, *_ in rows}) == len(rows)
    names = report_types.names(db)
    for report_type, sha, size, pages, claim, last_name in rows:
        assert store.exists(sha)
        data = store.get(sha)
        assert len(data) == size and data.startswith(b"%PDF-")
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == pages and 1 <= pages <= 2
        text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
        assert last_name in text
        assert names[report_type] in text
        assert "ResultsDesk demo: synthetic data, not a real person" in text
        if claim:
            assert claim in text
    assert sum(pages for *_, pages, _, _ in rows) == summary.pdf_pages


def test_routing_follows_what_each_kind_of_account_receives(seeded):
    db, *_ = seeded
    routes = _all(db, select(Report.id, Report.report_type, Report.injury, Account.kind, Account.id,
                             Patient.employer_account_id)
                  .join(ReportRecipient, ReportRecipient.report_id == Report.id)
                  .join(Account, Account.id == ReportRecipient.account_id)
                  .join(Patient, Patient.id == Report.patient_id))
    for _, report_type, injury, kind, account_id, employer_id in routes:
        if kind == "employer":
            assert report_type in EMPLOYER_TYPES
            assert account_id == employer_id
        else:
            assert report_type in PAYOR_TYPES, (report_type, kind)
            assert injury

    employers_of = {}
    payers_of = {}
    for report_id, _, _, kind, account_id, _ in routes:
        (employers_of if kind == "employer" else payers_of).setdefault(report_id, []).append(account_id)
    reports = _all(db, select(Report.id, Report.report_type, Report.injury))
    for report_id, report_type, injury in reports:
        assert len(employers_of.get(report_id, [])) == 1  # every report reaches its employer
        expected_payers = 1 if injury and report_type in PAYOR_TYPES else 0
        assert len(payers_of.get(report_id, [])) == expected_payers


def test_payors_and_tpas_receive_tests_and_letters_of_their_claims(seeded):
    """The FAQ lists ATF, CCF and no-show letters among a payor's reports: the demo sends some
    (post-accident tests, missed injury rechecks), so a payor's type filter finds them."""
    db, *_ = seeded
    received = {kind: {t for (t,) in _all(db, select(Report.report_type).distinct()
                                         .join(ReportRecipient, ReportRecipient.report_id == Report.id)
                                         .join(Account, Account.id == ReportRecipient.account_id)
                                         .where(Account.kind == kind))}
                for kind in ("payor", "tpa")}
    assert received["payor"] | received["tpa"] >= {"atf", "ccf", "no_show"}
    untied = _all(db, select(Report.report_type).where(Report.report_type.in_(NON_INJURY_TYPES),
                                                       Report.claim_number.is_(None)))
    assert untied, "most tests and letters are not part of a claim"


def test_injury_flag_claims_and_dates_fit_the_type(seeded):
    db, *_ = seeded
    rows = _all(db, select(Report.report_type, Report.injury, Report.claim_number, Report.posted_at,
                           Report.service_date, Report.status, Report.state))
    for report_type, injury, claim, posted_at, service_date, status, state in rows:
        if report_type in INJURY_TYPES:
            assert injury
        assert (claim is not None) == injury
        assert NOW - timedelta(days=120) <= posted_at <= NOW
        assert 0 <= (posted_at.date() - service_date).days <= 5
        # Results stay 60 days after posting, then archive.
        assert status == ("archived" if posted_at < NOW - timedelta(days=60) else "available")
        assert len(state) == 2
    assert {status for *_, status, _ in rows} == {"archived", "available"}
    # A claim stays with one patient and one payer or TPA across its reports.
    payer_routes = _all(db, select(Report.claim_number, Report.patient_id, ReportRecipient.account_id)
                        .join(ReportRecipient, ReportRecipient.report_id == Report.id)
                        .join(Account, Account.id == ReportRecipient.account_id)
                        .where(Account.kind != "employer"))
    owners: dict[str, set] = {}
    for claim, patient_id, account_id in payer_routes:
        owners.setdefault(claim, set()).add((patient_id, account_id))
    assert all(len(pairs) == 1 for pairs in owners.values())


def test_seed_is_recorded_in_the_audit_trail(seeded):
    db, _, summary, _ = seeded
    [(action, outcome, details, occurred_at)] = _all(
        db, select(AuditEvent.action, AuditEvent.outcome, AuditEvent.details, AuditEvent.occurred_at))
    assert (action, outcome, occurred_at) == ("demo.seeded", "success", NOW)
    assert details["reports"] == REPORTS and details["patients"] == PATIENTS
    assert details["reports_by_type"] == dict(summary.reports_by_type)


def test_same_now_gives_identical_reports(seeded, tmp_path, cheap_hashing):
    first_db, *_ = seeded
    second_db = _fresh_database(tmp_path)
    try:
        assert seed.database_is_empty(second_db)
        seed.seed(second_db, blob_store=BlobStore(tmp_path / "blobs"), reports=REPORTS,
                       patients=PATIENTS, now=NOW)
        assert _report_hashes(second_db) == _report_hashes(first_db)
        patients = select(Patient.first_name, Patient.last_name, Patient.date_of_birth,
                          Patient.employee_id).order_by(Patient.id)
        assert _all(second_db, patients) == _all(first_db, patients)
    finally:
        second_db.dispose()


def test_refuses_a_database_that_already_has_data(seeded, tmp_path, cheap_hashing):
    db, *_ = seeded
    assert not seed.database_is_empty(db)
    with pytest.raises(seed.DatabaseNotEmpty):
        seed.seed(db, blob_store=BlobStore(tmp_path / "blobs"), reports=5, patients=5, now=NOW)
    [(count,)] = _all(db, select(func.count()).select_from(Report))
    assert count == REPORTS


def test_only_accounts_with_people_have_opened_their_results(seeded):
    db, *_ = seeded
    staffed = {row[0] for row in _all(db, select(AccountMembership.account_id).distinct())}
    opened_by_account = dict(_all(db, select(ReportRecipient.account_id,
                                             func.count(ReportRecipient.first_opened_at))
                                  .group_by(ReportRecipient.account_id)))
    assert staffed and set(opened_by_account) - staffed  # some accounts have nobody
    for account_id, opened in opened_by_account.items():
        assert (opened > 0) == (account_id in staffed), account_id
