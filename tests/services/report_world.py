"""A small, fully known world of accounts, clinics, patients, reports and users for the report
tests (scope, search, downloads, retention).

Every report is listed in REPORTS with its type, status and routing, so a test can say which
reports a user must see by key. Each report has a real little PDF in a BlobStore under the
test's tmp_path, with as many pages as its `pages`, so opening, previews and bundles work.

The `world` fixture (tests/services/conftest.py) builds it on each database of the `db` fixture.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from fpdf import FPDF
from sqlalchemy import func, select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import (
    Account,
    AuditEvent,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    ReportRead,
    ReportRecipient,
    User,
)
from services import principals
from services.errors import PermissionDenied
from services.insight import report_volume
from services.organizations import npi
from services.principals import Principal
from services.reports import _pdf_preview as pdf_preview
from services.reports import access, list_purpose, previews

UTC = timezone.utc
# Before conftest.START (2026-11-02), and less than 60 days before it.
BASE = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def npi_number(serial: int) -> str:
    first_nine = f"1{serial:08d}"
    return first_nine + npi.check_digit(first_nine)


ACCOUNTS = {
    # key: (name, kind)
    "acme": ("Acme Freight", "employer"),
    "globex": ("Globex Logistics", "employer"),
    "payco": ("Payco Mutual", "payor"),
    "claimsco": ("Claims Partners", "tpa"),
}
GROUPS = {"north": "Northside Clinics", "south": "Southside Clinics"}
PROVIDERS = {
    # key: (group, name, state)
    "p1a": ("north", "Northside Main", "TX"),
    "p1b": ("north", "Northside East", "OK"),
    "p2a": ("south", "Southside Main", "CA"),
}
PATIENTS = {
    # key: (first, last, date of birth, employee id, employer account)
    "maria": ("Maria", "Gonzalez", date(1980, 4, 1), "E100", "acme"),
    "john": ("John", "Smith", date(1975, 2, 3), "E200", "acme"),
    "joan": ("Joan", "Smithers", date(1990, 7, 9), "E300", "globex"),
    "li": ("Li", "Wei", date(1985, 12, 24), "E400", "globex"),
    "mj": ("Mary-Jane", "O'Neil", date(1970, 1, 15), "E500", "globex"),
}


@dataclass(frozen=True)
class ReportSpec:
    key: str
    report_type: str
    patient: str
    provider: str
    service_date: date
    posted_at: datetime
    status: str
    injury: bool
    recipients: tuple[str, ...]
    pages: int = 1


def _at(day: int, hour: int = 12) -> datetime:
    return BASE + timedelta(days=day, hours=hour - 12)


REPORTS = (
    ReportSpec("acme_ccf", "ccf", "maria", "p1a", date(2026, 10, 1), _at(1), "available", False,
               ("acme",), pages=1),
    ReportSpec("acme_injury", "injury_status", "john", "p1b", date(2026, 10, 3), _at(3), "available",
               True, ("acme", "payco"), pages=2),
    # Types payors and TPAs do not receive by default, routed to a payor and a TPA too (as when
    # their accounts' own sets held those types at posting): the routing row decides, so they see them.
    ReportSpec("acme_recheck", "recheck_reminder", "john", "p1a", date(2026, 10, 5), _at(5),
               "available", True, ("acme", "payco"), pages=1),
    ReportSpec("acme_first_notice", "first_notice", "john", "p1b", date(2026, 10, 7), _at(7),
               "available", True, ("acme", "claimsco"), pages=3),
    ReportSpec("acme_archived", "atf", "maria", "p1a", date(2026, 9, 1), _at(-28), "archived", False,
               ("acme",)),
    ReportSpec("acme_withdrawn", "no_show", "maria", "p1a", date(2026, 10, 9), _at(9), "withdrawn",
               False, ("acme",)),
    ReportSpec("globex_ccf", "ccf", "joan", "p2a", date(2026, 10, 2), _at(2), "available", False,
               ("globex",), pages=2),
    ReportSpec("globex_referral", "referral", "li", "p1a", date(2026, 10, 4), _at(4), "available",
               True, ("globex", "claimsco")),
    ReportSpec("globex_transcription", "transcription", "mj", "p2a", date(2026, 10, 6), _at(6),
               "available", True, ("globex",)),
    # Posted by a clinic but not (yet) routed to any account.
    ReportSpec("unrouted", "transcription_summary", "li", "p2a", date(2026, 10, 8), _at(8),
               "available", True, ()),
)
SPEC = {spec.key: spec for spec in REPORTS}

USERS = {
    # key: make_user keyword arguments (filled with ids in the fixture)
    "acme_user": dict(accounts=(("acme", "account_user"),)),
    "acme_user2": dict(accounts=(("acme", "account_user"),)),
    "globex_user": dict(accounts=(("globex", "account_admin"),)),
    "payco_user": dict(accounts=(("payco", "account_user"),)),
    "tpa_user": dict(accounts=(("claimsco", "account_user"),)),
    "acme_and_payco": dict(accounts=(("acme", "account_user"), ("payco", "account_user"))),
    "staff_p1a": dict(provider=(("north", "p1a", "provider_staff"),)),
    "admin_p1b": dict(provider=(("north", "p1b", "provider_admin"),)),
    "gadmin_north": dict(provider=(("north", None, "provider_group_admin"),)),
    "staff_p2a": dict(provider=(("south", "p2a", "provider_staff"),)),
    "support": dict(staff=("support_rep",)),
    "account_rep": dict(staff=("account_rep",)),
    "privacy": dict(staff=("privacy_officer",)),
    "manager": dict(staff=("manager",)),
}


def pdf_for(label: str, pages: int) -> bytes:
    """A tiny real PDF with `pages` pages (unique per label, so each report has its own hash)."""
    document = FPDF()
    document.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    document.set_font("Helvetica", size=12)
    for page in range(1, pages + 1):
        document.add_page()
        document.cell(text=f"Test report {label}, page {page} of {pages}")
    return bytes(document.output())


@dataclass
class World:
    db: Database
    store: BlobStore
    account: dict[str, int]
    group: dict[str, int]
    provider: dict[str, int]
    patient: dict[str, int]
    report: dict[str, int]
    user: dict[str, int]
    pdf: dict[str, bytes]

    def principal(self, user_key: str) -> Principal:
        return load_principal(self.db, self.user[user_key])

    def ids(self, *keys: str) -> set[int]:
        return {self.report[key] for key in keys}

    def key_of(self, report_id: int) -> str:
        return {v: k for k, v in self.report.items()}[report_id]


def load_principal(db: Database, user_id: int) -> Principal:
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def listing(principal: Principal) -> list_purpose.ListPurpose | None:
    """The purpose support and account representatives choose before reports are listed for
    them (None for everyone else, who is not asked)."""
    if not list_purpose.asked(principal):
        return None
    return list_purpose.for_visit(access.purpose("Support request from the client or clinic"))


def events(db: Database, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    with db.transaction(write=False) as session:
        return list(session.scalars(query))


def reads(db: Database, user_id: int) -> set[int]:
    with db.transaction(write=False) as session:
        return set(session.scalars(select(ReportRead.report_id).where(ReportRead.user_id == user_id)))


def report_row(db: Database, report_id: int) -> Report:
    with db.transaction(write=False) as session:
        return session.get(Report, report_id)


def file_name_of(world, key: str) -> str:
    """The file name a report of the world downloads under (no patient name in it)."""
    spec = SPEC[key]
    return f"{spec.report_type}_{spec.service_date:%Y-%m-%d}_report-{world.report[key]}.pdf"


def no_patient_name(text: str) -> None:
    lowered = text.lower()
    for first, last, *_ in PATIENTS.values():
        assert first.lower() not in lowered and last.lower() not in lowered, text


def count_reports(db: Database) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(Report))


def add_report(db: Database, *, report_type: str, patient_id: int, provider_id: int,
               posted_at: datetime, recipients: tuple[int, ...] = (), status: str = "available",
               service_date: date | None = None, delivered_at: datetime | None = None,
               injury: bool = False, state: str = "TX", store: BlobStore | None = None,
               pages: int = 1, label: str | None = None) -> int:
    """One report; with a store it gets a real PDF, without one a made-up hash (no file)."""
    label = label or f"{report_type}-{posted_at.isoformat()}-{patient_id}-{provider_id}"
    if store is not None:
        data = pdf_for(label, pages)
        sha, size = store.put(data), len(data)
    else:
        sha, size = hashlib.sha256(label.encode()).hexdigest(), 1000
    with db.transaction() as session:
        report = Report(report_type=report_type, patient_id=patient_id, provider_id=provider_id,
                        service_date=service_date or posted_at.date(), posted_at=posted_at,
                        delivered_at=delivered_at or posted_at, status=status, injury=injury,
                        state=state, claim_number=None, file_sha256=sha, file_size=size,
                        page_count=pages)
        session.add(report)
        session.flush()
        session.add_all(ReportRecipient(report_id=report.id, account_id=account_id,
                                        routed_at=posted_at) for account_id in recipients)
        report_volume.add_posted(session, [report.id])  # as posting does
        return report.id


# The world's PDFs are the same bytes in every test (fixed creation date): each is drawn once
# per test run, and later worlds reuse the pictures instead of starting a drawing child again.
_PICTURES: dict[str, pdf_preview.Preview] = {}


def _give_pictures(db: Database, store: BlobStore, files: set[bytes]) -> None:
    """As posting does: every stored file gets its first-page picture."""
    digests = {hashlib.sha256(data).hexdigest() for data in files}
    if not digests <= _PICTURES.keys():
        previews.draw_missing(db, store, batch=100, per_child=100)
        with db.transaction(write=False) as session:
            for sha256 in digests:
                state = previews.state(session, sha256)
                png = store.get_preview(sha256)
                _PICTURES[sha256] = pdf_preview.Preview(png, "" if png else state.reason or "")
        return
    with db.transaction() as session:
        for sha256 in digests:
            previews.keep(session, store, sha256, _PICTURES[sha256])


def build_world(db: Database, make_user, store: BlobStore) -> World:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with db.transaction() as session:
        accounts = {key: Account(name=name, kind=kind, created_at=created)
                    for key, (name, kind) in ACCOUNTS.items()}
        groups = {key: ProviderGroup(name=name, npi=npi_number(n), created_at=created)
                  for n, (key, name) in enumerate(GROUPS.items(), start=1)}
        session.add_all([*accounts.values(), *groups.values()])
        session.flush()
        providers = {key: Provider(group_id=groups[group].id, name=name, npi=npi_number(10 + n),
                                   state=state)
                     for n, (key, (group, name, state)) in enumerate(PROVIDERS.items(), start=1)}
        patients = {key: Patient(first_name=first, last_name=last, date_of_birth=born,
                                 employee_id=employee_id,
                                 employer_account_id=accounts[employer].id)
                    for key, (first, last, born, employee_id, employer) in PATIENTS.items()}
        session.add_all([*providers.values(), *patients.values()])
        session.flush()
        account_ids = {k: v.id for k, v in accounts.items()}
        group_ids = {k: v.id for k, v in groups.items()}
        provider_ids = {k: v.id for k, v in providers.items()}
        patient_ids = {k: v.id for k, v in patients.items()}

    report_ids: dict[str, int] = {}
    pdfs: dict[str, bytes] = {}
    for spec in REPORTS:
        pdfs[spec.key] = pdf_for(spec.key, spec.pages)
        report_ids[spec.key] = add_report(
            db, report_type=spec.report_type, patient_id=patient_ids[spec.patient],
            provider_id=provider_ids[spec.provider], posted_at=spec.posted_at,
            recipients=tuple(account_ids[a] for a in spec.recipients), status=spec.status,
            service_date=spec.service_date, injury=spec.injury,
            state=PROVIDERS[spec.provider][2], store=store, pages=spec.pages, label=spec.key)

    user_ids = {}
    for key, spec in USERS.items():
        kwargs = {}
        if "staff" in spec:
            kwargs["staff"] = spec["staff"]
        if "accounts" in spec:
            kwargs["accounts"] = tuple((account_ids[a], role) for a, role in spec["accounts"])
        if "provider" in spec:
            kwargs["provider"] = tuple(
                (group_ids[g], None if p is None else provider_ids[p], role)
                for g, p, role in spec["provider"])
        user_ids[key] = make_user(f"{key}@x.test", name=key.replace("_", " ").title(), **kwargs)

    _give_pictures(db, store, set(pdfs.values()))
    return World(db=db, store=store, account=account_ids, group=group_ids, provider=provider_ids,
                 patient=patient_ids, report=report_ids, user=user_ids, pdf=pdfs)


def expect_denial(db: Database, principal: Principal, operation, *, target_type: str | None,
                  target_id: int | None, action: str = "view_reports") -> None:
    """`operation()` raises PermissionDenied, leaves exactly one `permission.denied` event naming
    the actor and target, and writes nothing else: no report event, no read marker."""
    before = events(db)
    reads_before = reads(db, principal.user_id)
    with pytest.raises(PermissionDenied) as refused:
        operation()
    assert str(refused.value) == "You do not have permission to do that."
    new = events(db)[len(before):]
    assert [(e.action, e.outcome) for e in new] == [("permission.denied", "denied")]
    denial = new[0]
    assert (denial.actor_user_id, denial.actor_email) == (principal.user_id, principal.email)
    assert denial.target_type == target_type
    assert denial.target_id == (None if target_id is None else str(target_id))
    assert denial.details == {"action": action}
    assert reads(db, principal.user_id) == reads_before


def session_token(db: Database, user_id: int) -> str:
    """A signed-in session for the user, as sign-in opens one; returns the browser token."""
    from services import clock
    from services.identity import sessions

    with db.transaction() as session:
        return sessions.start(session, user=session.get(User, user_id), now=clock.now())


@dataclass(frozen=True)
class Downloaded:
    file_name: str
    mime_type: str
    data: bytes


def download_bundle(world: World, principal: Principal, report_ids: list[int], *,
                    bundle_format: str = "zip", staff_purpose=None) -> Downloaded:
    """What a person's browser saves: a link made, then followed while signed in, read to the end."""
    from services.reports import bundle_links

    token = bundle_links.create(world.db, principal, report_ids, bundle_format=bundle_format,
                                staff_purpose=staff_purpose)
    bundle = bundle_links.open_stream(world.db, token, session_token(world.db, principal.user_id),
                                      world.store)
    return Downloaded(bundle.file_name, bundle.mime_type, b"".join(bundle.chunks))
