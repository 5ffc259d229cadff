"""The demo data set: client accounts, clinics, patients, reports with real PDFs, and demo logins.

Everything comes from one `random.Random(random_seed)` and dates are offsets from `now`, so the
same seed and `now` give the same rows and byte-identical PDFs on SQLite and PostgreSQL.
Run `python -m commands.seed` to migrate and fill an empty database.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.blob_store import BlobStore
from db.engine import Database
from db.models import (
    Account,
    AccountActivityDaily,
    AccountMembership,
    Membership,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    ReportRecipient,
    StaffRole,
    User,
)
from services import audit, clock
from services.demo._report_content import (
    BUILDERS,
    INJURIES,
    Claim,
    Clinic,
    Person,
    Visit,
)
from services.demo._report_pdfs import DemoPdf, DemoReportContent, build
from services.errors import DomainError
from services.identity import passwords, terms
from services.insight import report_volume
from services.organizations import npi
from services.policy import ROLE_LABELS, STAFF_ROLES, Role
from services.reports import previews as report_previews
from services.reports import report_files, report_types, routing
from services.reports.retention import RETENTION_PERIOD
from services.statuses import ReportStatus, UserStatus
from services.transaction import transaction

DEMO_PASSWORD = "Demo-Password-1!"

POSTING_WINDOW = timedelta(days=120)
PROGRESS_EVERY = 250

INJURY_REPORT_TYPES = frozenset({"injury_status", "first_notice", "transcription", "state_wc_form",
                                 "referral", "recheck_reminder"})
# The other types belong to an injury claim this often: a post-accident drug or alcohol test, a
# missed injury recheck, a summary of an injury visit (the rest are pre-employment, random or DOT
# work). Those reach the claim's payor or TPA too: the FAQ lists ATF, CCF and no-show letters
# among a payor's reports, and a payor the demo never sent one would search for them in vain.
_CLAIM_SHARE = {"atf": 0.15, "ccf": 0.1, "no_show": 0.4, "transcription_summary": 0.6}

# Drug and alcohol testing is most of an occupational clinic's volume.
_TYPE_WEIGHTS = {
    "ccf": 30, "atf": 9, "no_show": 5, "injury_status": 16, "transcription": 9,
    "transcription_summary": 8, "referral": 6, "recheck_reminder": 6, "first_notice": 6,
    "state_wc_form": 5,
}
# A new injury report starts a claim this often even when an open claim could take it.
_NEW_CLAIM_SHARE = 0.35
_CLAIM_OPEN_DAYS = 45
_INSERT_BATCH = 1000
# Blob writes wait on the file system; two threads hide them behind PDF drawing, more only
# compete with it for the interpreter lock.
_BLOB_WRITERS = 2

# --- Organisations ---------------------------------------------------------------------------

_EMPLOYERS = ("Harborline Freight Co.", "Cedar Ridge Fabrication", "Bluebonnet Market Group")
_EMPLOYER_WEIGHTS = (45, 35, 20)
_PAYORS = ("Prairie Mutual Insurance", "Keystone Casualty Company")
_TPA = "Northgate Claims Services"
# The claim number format of each payor / the TPA, in the order above.
_CLAIM_PREFIXES = ("PMI-", "KCC", "NG-")
_CLAIM_PAYER_WEIGHTS = (40, 35, 25)

_GROUPS = (
    ("Sunbelt Occupational Medicine", (
        ("Sunbelt Occupational Medicine - Houston", "4100 Harrisburg Blvd", "Houston", "TX", "77011"),
        ("Sunbelt Occupational Medicine - Dallas", "2250 Irving Blvd", "Dallas", "TX", "75207"),
        ("Sunbelt Occupational Medicine - Tampa", "5310 W Cypress St", "Tampa", "FL", "33607"),
    )),
    ("Summit Worker Health Partners", (
        ("Summit Worker Health - Sacramento", "1820 Del Paso Blvd", "Sacramento", "CA", "95815"),
        ("Summit Worker Health - Albany", "96 Wolf Rd", "Albany", "NY", "12205"),
    )),
)
# Two treating physicians per clinic, in the order of _GROUPS.
_PHYSICIANS = (
    ("Dr. Maya Okafor, MD", "Dr. Daniel Reyes, DO"),
    ("Dr. Hannah Brooks, MD", "Dr. Victor Lam, MD"),
    ("Dr. Elena Marsh, DO", "Dr. Samuel Ortiz, MD"),
    ("Dr. Priya Natarajan, MD", "Dr. Colin Becker, MD"),
    ("Dr. Laura Kim, MD", "Dr. Marcus Webb, DO"),
)

# --- Patients --------------------------------------------------------------------------------

_FIRST_NAMES = (
    "James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos",
    "Elizabeth", "Jose", "Barbara", "Daniel", "Susan", "Matthew", "Jessica", "Anthony", "Sarah",
    "Mark", "Karen", "Luis", "Nancy", "Steven", "Lisa", "Andrew", "Betty", "Joshua", "Sandra",
    "Kevin", "Ashley", "Brian", "Kimberly", "Juan", "Emily", "Ryan", "Donna", "Jacob", "Michelle",
    "Gary", "Carol", "Eric", "Amanda", "Jonathan", "Melissa", "Tyrone", "Deborah", "Linh",
    "Stephanie", "Rafael", "Rebecca", "Samuel", "Sharon", "Gregory", "Laura", "Terrell", "Cynthia",
    "Hector", "Angela", "Marcus", "Yolanda", "Wei", "Priya", "Omar", "Fatima", "Dmitri", "Keisha",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Okonkwo", "Patel", "Kowalski", "Delgado", "Brennan",
    "Castillo", "Whitaker", "Huang", "Fitzgerald", "Ibarra", "Lindqvist", "Morales", "Petrovic",
)

# --- What the seed creates --------------------------------------------------------------------


@dataclass(frozen=True)
class SeedSummary:
    """How much demo data a seed created."""

    employer_accounts: int
    payor_accounts: int
    tpa_accounts: int
    provider_groups: int
    providers: int
    patients: int
    users: int
    reports: int
    archived_reports: int
    injury_reports: int
    claims: int
    report_recipients: int
    pdf_pages: int
    pdf_bytes: int
    reports_by_type: tuple[tuple[str, int], ...] = ()
    type_names: tuple[tuple[str, str], ...] = ()  # code, name from the report type list

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("reports_by_type", "type_names")}

    def describe(self) -> str:
        lines = [f"{name.replace('_', ' ')}: {value:,}" for name, value in self.counts().items()]
        names = dict(self.type_names)
        lines += [f"  {names.get(key, key)}: {count:,}" for key, count in self.reports_by_type]
        return "\n".join(lines)


class DatabaseNotEmpty(DomainError):
    """Demo data goes only into an empty database, never next to real users or reports."""

    def __init__(self) -> None:
        super().__init__("The database already has users or reports; demo data was not added.")


@dataclass(frozen=True)
class _DemoUser:
    email: str
    name: str
    role: Role
    scope: str = ""  # which group, provider or account the role covers; "" for staff


_DEMO_USERS = (
    _DemoUser("admin@demo.test", "Avery Admin", Role.SYSTEM_ADMIN),
    _DemoUser("support@demo.test", "Sam Sutton", Role.SUPPORT_REP),
    _DemoUser("accounts@demo.test", "Alex Acosta", Role.ACCOUNT_REP),
    _DemoUser("privacy@demo.test", "Priya Prakash", Role.PRIVACY_OFFICER),
    _DemoUser("manager@demo.test", "Morgan Miller", Role.MANAGER),
    _DemoUser("groupadmin@demo.test", "Grace Gonzalez", Role.PROVIDER_GROUP_ADMIN, _GROUPS[0][0]),
    _DemoUser("clinicadmin@demo.test", "Carmen Castillo", Role.PROVIDER_ADMIN, _GROUPS[0][1][0][0]),
    _DemoUser("clinic@demo.test", "Chris Chen", Role.PROVIDER_STAFF, _GROUPS[0][1][0][0]),
    _DemoUser("employer@demo.test", "Erin Ellis", Role.ACCOUNT_USER, _EMPLOYERS[0]),
    _DemoUser("payor@demo.test", "Paul Perez", Role.ACCOUNT_USER, _PAYORS[0]),
    _DemoUser("tpa@demo.test", "Tara Thompson", Role.ACCOUNT_USER, _TPA),
)

DEMO_LOGINS: list[tuple[str, str]] = [
    (user.email, f"{ROLE_LABELS[user.role]}, {user.scope}" if user.scope else ROLE_LABELS[user.role])
    for user in _DEMO_USERS
]


# --- Generation --------------------------------------------------------------------------------


def _report_types(rng: random.Random, count: int, keys: list[str]) -> list[str]:
    # One of each first (in the list's order), so even a small seed shows every type.
    weights = {key: weight for key, weight in _TYPE_WEIGHTS.items() if key in keys}
    types = keys[:count] + rng.choices(list(weights), list(weights.values()),
                                       k=max(0, count - len(keys)))
    rng.shuffle(types)
    return types


def _is_injury(rng: random.Random, report_type: str) -> bool:
    if report_type in INJURY_REPORT_TYPES:
        return True
    return rng.random() < _CLAIM_SHARE[report_type]


def _service_lag(rng: random.Random, injury: bool) -> int:
    if injury:
        return rng.randint(0, 5)
    # Non-injury results are due within report_volume.TURNAROUND_TARGET; a few run late.
    return rng.choices((0, 1, 2, 3, 4, 5), (30, 35, 20, 10, 3, 2))[0]


def _account(name: str, kind: str, number: int, now: datetime) -> Account:
    """A demo client account with the main contact and reference a real one is created with."""
    domain = "".join(c for c in name.split()[0].lower() if c.isalpha()) + ".example"
    return Account(name=name, kind=kind, created_at=now, external_ref=f"CUST-{1001 + number}",
                   contact_name="Portal contact", contact_email=f"portal@{domain}",
                   contact_phone=f"(555) 010-{2000 + number:04d}")


def _has_data(session: Session) -> bool:
    return (session.scalar(select(User.id).limit(1)) is not None
            or session.scalar(select(Report.id).limit(1)) is not None)


def database_is_empty(db: Database) -> bool:
    """True when there are no users and no reports (the only time the demo seed runs)."""
    with transaction(db, write=False) as session:
        return not _has_data(session)


@dataclass(frozen=True)
class _Draft:
    row: dict
    recipients: tuple[int, ...]
    pdf: DemoPdf


class _ReportDrafts:
    """Draws the reports one by one in posting order, with the injury claims they belong to."""

    def __init__(self, rng: random.Random, *, now: datetime, clinics: list[Clinic],
                 people: list[Person], employer_names: dict[int, str], payers: list[Account],
                 type_names: dict[str, str], receives: dict[int, frozenset[str]]) -> None:
        self.rng = rng
        self.type_names = type_names
        self.receives = receives
        self.archive_before = now - RETENTION_PERIOD
        self.clinics = clinics
        self.people = people
        self.employer_names = employer_names
        self.payers = payers
        self.claims: list[Claim] = []
        self._open: list[Claim] = []
        self._numbers: set[str] = set()

    def _new_claim(self, service_date: date) -> Claim:
        rng = self.rng
        payer_index = rng.choices(range(len(self.payers)), _CLAIM_PAYER_WEIGHTS)[0]
        number = ""
        while not number or number in self._numbers:
            number = f"{_CLAIM_PREFIXES[payer_index]}{rng.randint(10_000_000, 99_999_999)}"
        self._numbers.add(number)
        clinic = rng.choice(self.clinics)
        claim = Claim(number=number, patient=rng.choice(self.people), clinic=clinic,
                       payer=self.payers[payer_index],
                       injury_date=service_date - timedelta(days=rng.randint(0, 2)),
                       injury=rng.choice(INJURIES), physician=rng.choice(clinic.physicians))
        self.claims.append(claim)
        self._open.append(claim)
        return claim

    def _claim_for(self, report_type: str, service_date: date) -> Claim:
        self._open = [c for c in self._open if (service_date - c.injury_date).days <= _CLAIM_OPEN_DAYS]
        candidates = [c for c in self._open if c.injury_date <= service_date]
        # A first notice opens a claim; other injury reports mostly follow one already open.
        if report_type == "first_notice" or not candidates or self.rng.random() < _NEW_CLAIM_SHARE:
            return self._new_claim(service_date)
        return self.rng.choice(candidates)

    def draft(self, number: int, report_type: str, posted_at: datetime) -> _Draft:
        rng = self.rng
        injury = _is_injury(rng, report_type)
        service_date = posted_at.date() - timedelta(days=_service_lag(rng, injury))
        claim = self._claim_for(report_type, service_date) if injury else None
        if claim is not None:
            patient, clinic = claim.patient, claim.clinic
        else:
            patient, clinic = rng.choice(self.people), rng.choice(self.clinics)
        employer_name = self.employer_names[patient.employer_id]
        visit = Visit(report_type, patient, clinic, service_date, posted_at, claim, employer_name)
        title, details, narrative, signer = BUILDERS[report_type](rng, visit)
        claim_number = claim.number if claim else None
        pdf = build(DemoReportContent(
            report_label=f"RD-{posted_at:%y%m%d}-{number:05d}", report_type=report_type,
            type_label=self.type_names[report_type],
            patient_name=patient.display_name, date_of_birth=patient.date_of_birth,
            employee_id=patient.employee_id, employer_name=employer_name, provider_name=clinic.name,
            provider_npi=clinic.npi, provider_address=clinic.address, service_date=service_date,
            posted_at=posted_at, state=clinic.state, claim_number=claim_number, section_title=title,
            details=details, narrative=narrative, signed_by=signer,
        ))
        recipients = routing.routed(
            report_type, [patient.employer_id, claim.payer.id if claim is not None else None],
            self.receives)
        row = {
            "report_type": report_type, "patient_id": patient.id, "provider_id": clinic.id,
            "service_date": service_date, "posted_at": posted_at, "delivered_at": posted_at,
            "status": ReportStatus.ARCHIVED if posted_at < self.archive_before else ReportStatus.AVAILABLE,
            "injury": injury, "state": clinic.state, "claim_number": claim_number,
            "file_sha256": hashlib.sha256(pdf.data).hexdigest(), "file_size": len(pdf.data),
            "page_count": pdf.page_count,
        }
        return _Draft(row, tuple(recipients), pdf)


def seed(db: Database, *, blob_store: BlobStore, reports: int = 5000, patients: int = 3000,
         now: datetime | None = None, random_seed: int = 20261123,
         progress: Callable[[int, int], None] | None = None, previews: bool = True) -> SeedSummary:
    """Fill an empty database with the demo data set; raises DatabaseNotEmpty otherwise."""
    summary = _seed(db, blob_store=blob_store, reports=reports, patients=patients, now=now,
                    random_seed=random_seed, progress=progress)
    if previews:
        draw_previews(db, blob_store)
    return summary


# Demo files are the seed's own, so one drawing child takes many of them in turn (a child's
# start and PDFium's import cost more than drawing a page); if a child dies anyway, each file
# it left is drawn again in a child of its own.
_PREVIEWS_PER_CHILD = 250


# What the first start draws before the server starts: the newest reports, which the Reports
# screen lists first. The rest (about 40 s of work for 5,000) are drawn by a background
# `python -m commands.previews` while the portal already serves.
FIRST_START_PREVIEWS = 500


def draw_previews(db: Database, blob_store: BlobStore, *, most: int | None = None) -> int:
    """Draw the demo reports' first pages (newest first), in greyscale: the demo PDFs are black
    text. Returns how many were drawn."""
    done = report_previews.draw_missing(db, blob_store, batch=_PREVIEWS_PER_CHILD,
                                        per_child=_PREVIEWS_PER_CHILD, grayscale=True,
                                        workers=min(os.cpu_count() or 1, 4), most=most)
    return sum(done.values())


def _seed(db: Database, *, blob_store: BlobStore, reports: int, patients: int,
          now: datetime | None, random_seed: int,
          progress: Callable[[int, int], None] | None) -> SeedSummary:
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(timezone.utc)
    if patients < 1 or reports < 0:
        raise ValueError("the demo needs at least one patient and a non-negative report count")
    rng = random.Random(random_seed)

    with transaction(db) as session, ThreadPoolExecutor(_BLOB_WRITERS, "demo-blobs") as blob_writer:
        # Checked inside the write transaction: on SQLite it holds the write lock, and on
        # PostgreSQL a concurrent seed trips over the unique account names and rolls back.
        if _has_data(session):
            raise DatabaseNotEmpty()

        employers = [_account(name, "employer", index, now) for index, name in enumerate(_EMPLOYERS)]
        payors = [_account(name, "payor", 10 + index, now) for index, name in enumerate(_PAYORS)]
        tpa = _account(_TPA, "tpa", 20, now)
        session.add_all([*employers, *payors, tpa])
        groups, clinics = _add_providers(session, rng, now=now)
        users = _add_users(session, now=now, group_id=groups[0].id, provider_id=clinics[0].id,
                           accounts={_EMPLOYERS[0]: employers[0], _PAYORS[0]: payors[0], _TPA: tpa})
        people = _add_patients(session, rng, count=patients, now=now,
                               employer_ids=[account.id for account in employers])
        # The list's active types the demo can write, and what each account receives (its kind's
        # standard set: the demo accounts have no exceptions), read once for every report.
        listed = [kind for kind in report_types.active_types(session) if kind.code in BUILDERS]
        type_names = {kind.code: kind.name for kind in listed}
        session.flush()
        drafts = _ReportDrafts(rng, now=now, clinics=clinics, people=people,
                               employer_names={account.id: account.name for account in employers},
                               payers=[*payors, tpa], type_names=type_names,
                               receives=routing.receiving_accounts(
                                   session, [account.id for account in (*employers, *payors, tpa)]))

        types = _report_types(rng, reports, list(type_names))
        # Drawn apart from `rng`, so the reports stay the same whatever is added here.
        opening_rng = random.Random(random_seed + 1)
        # Only an account with people in it can have opened anything: the others' results stay
        # unopened, so the Dashboard's adoption tells the same story as the Users screen.
        staffed = set(session.scalars(select(AccountMembership.account_id).distinct()))
        # Oldest first, so report ids and labels grow with posting time.
        offsets = sorted((rng.randrange(int(POSTING_WINDOW.total_seconds())) for _ in range(reports)),
                         reverse=True)
        totals: Counter[str] = Counter()
        by_type: Counter[str] = Counter()
        batch: list[_Draft] = []
        writes: list[Future[str]] = []

        def insert_batch() -> None:
            # Every PDF of the batch is on disk before its row is even inserted.
            for write, draft in zip(writes, batch, strict=True):
                if write.result() != draft.row["file_sha256"]:
                    raise RuntimeError("blob store returned a different hash for a demo PDF")
            ids = session.scalars(insert(Report).returning(Report.id, sort_by_parameter_order=True),
                                  [draft.row for draft in batch]).all()
            routes = [
                {"report_id": report_id, "account_id": account_id, "routed_at": draft.row["posted_at"],
                 "first_opened_at": (_demo_first_opening(opening_rng, draft.row["posted_at"], now)
                                     if account_id in staffed else None)}
                for report_id, draft in zip(ids, batch, strict=True)
                for account_id in draft.recipients
            ]
            if routes:
                session.execute(insert(ReportRecipient), routes)
            totals["report_recipients"] += len(routes)
            batch.clear()
            writes.clear()

        for index, (report_type, offset) in enumerate(zip(types, offsets, strict=True)):
            posted_at = (now - timedelta(seconds=offset)).replace(microsecond=0)
            draft = drafts.draft(index + 1, report_type, posted_at)
            # Storing a blob is mostly waiting on the file system (temp file, write, rename: about
            # a third of the seed's time when done inline), so writer threads do it while the next
            # PDFs are drawn. Blobs written for a seed that then rolls back stay behind
            # unreferenced: harmless, since they are content-addressed synthetic PDFs and a re-run
            # stores the same bytes under the same names.
            writes.append(blob_writer.submit(blob_store.put, draft.pdf.data))
            batch.append(draft)
            by_type[report_type] += 1
            totals["archived"] += draft.row["status"] == ReportStatus.ARCHIVED
            totals["injury"] += draft.row["injury"]
            totals["pages"] += draft.pdf.page_count
            totals["bytes"] += len(draft.pdf.data)
            if len(batch) >= _INSERT_BATCH:
                insert_batch()
            done = index + 1
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == reports):
                progress(done, reports)
        if batch:
            insert_batch()

        summary = SeedSummary(
            employer_accounts=len(employers), payor_accounts=len(payors), tpa_accounts=1,
            provider_groups=len(groups), providers=len(clinics), patients=len(people),
            users=users, reports=reports, archived_reports=totals["archived"],
            injury_reports=totals["injury"], claims=len(drafts.claims),
            report_recipients=totals["report_recipients"], pdf_pages=totals["pages"],
            pdf_bytes=totals["bytes"],
            reports_by_type=tuple((key, by_type[key]) for key in type_names),
            type_names=tuple(type_names.items()),
        )
        _add_client_activity(session, opening_rng, now=now)
        report_volume.rebuild_in(session)
        audit.record(session, action="demo.seeded", now=now,
                     details={**summary.counts(), "reports_by_type": dict(summary.reports_by_type)})
    return summary


# Hours from posting to a client's first opening: most within a day or two, some late.
_OPENING_HOURS = (1, 2, 4, 8, 12, 20, 26, 30, 44, 50, 66, 80, 110, 170, 300)
_OPENED_SHARE = 0.8


def _demo_first_opening(rng: random.Random, posted_at: datetime, now: datetime) -> datetime | None:
    if rng.random() >= _OPENED_SHARE:
        return None
    opened = posted_at + timedelta(hours=rng.choice(_OPENING_HOURS), minutes=rng.randrange(60))
    return opened if opened <= now else None


def _add_client_activity(session: Session, rng: random.Random, *, now: datetime) -> None:
    """Sign-ins, opens and downloads by the demo client users on about half the days."""
    members = session.execute(select(AccountMembership.user_id, AccountMembership.account_id)).all()
    rows = []
    for days_ago in range(POSTING_WINDOW.days):
        day = (now - timedelta(days=days_ago)).date()
        for user_id, account_id in members:
            if rng.random() < 0.5:
                rows.append({"account_id": account_id, "day": day, "user_id": user_id,
                             "sign_ins": rng.randint(1, 2), "opens": rng.randint(1, 9),
                             "downloads": rng.randint(0, 5)})
    if rows:
        session.execute(insert(AccountActivityDaily), rows)


def _add_providers(session: Session, rng: random.Random, *,
                   now: datetime) -> tuple[list[ProviderGroup], list[Clinic]]:
    used_npis: set[str] = set()
    groups: list[ProviderGroup] = []
    located: list[tuple[Provider, str]] = []
    for group_name, locations in _GROUPS:
        group = ProviderGroup(name=group_name, npi=npi.unused(rng, used_npis), created_at=now)
        groups.append(group)
        for name, street, city, state, postcode in locations:
            # Fictional 555-01xx numbers; no draw from rng, so the rest of the demo stays the same.
            line = 100 + 2 * len(located)
            provider = Provider(group=group, name=name, npi=npi.unused(rng, used_npis), address=street,
                                city=city, state=state, postal_code=postcode,
                                provider_type="Occupational medicine clinic",
                                phone=f"(800) 555-{line:04d}", fax=f"(800) 555-{line + 1:04d}")
            located.append((provider, f"{street}, {city}, {state} {postcode}"))
    session.add_all(groups)
    session.add_all(provider for provider, _ in located)
    session.flush()
    clinics = [
        Clinic(provider.id, provider.name, provider.npi, address, provider.state, physicians)
        for (provider, address), physicians in zip(located, _PHYSICIANS, strict=True)
    ]
    return groups, clinics


def _add_users(session: Session, *, now: datetime, group_id: int, provider_id: int,
               accounts: dict[str, Account]) -> int:
    # One bcrypt hash (cost 12, about a quarter second) shared by every demo login: they all
    # have the same published password anyway, and eleven hashes would add some 2.5 s to every
    # seed, including each test that seeds. Sharing it reveals only what is published anyway:
    # that the demo logins share one password.
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    # Demo logins have accepted the current terms, so a demo goes straight in; invited and
    # registered people accept at their first sign-in, everyone again when the version changes.
    users = [User(email=spec.email, name=spec.name, password_hash=password_hash, status=UserStatus.ACTIVE,
                  created_at=now)
             for spec in _DEMO_USERS]
    session.add_all(users)
    session.flush()
    for user in users:
        terms.record_acceptance(session, user, now=now)
    for spec, user in zip(_DEMO_USERS, users, strict=True):
        if spec.role in STAFF_ROLES:
            session.add(StaffRole(user_id=user.id, role=spec.role.value))
        elif spec.role == Role.PROVIDER_GROUP_ADMIN:
            session.add(Membership(user_id=user.id, group_id=group_id, provider_id=None,
                                   role=spec.role.value))
        elif spec.role in (Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF):
            session.add(Membership(user_id=user.id, group_id=group_id, provider_id=provider_id,
                                   role=spec.role.value))
        else:
            session.add(AccountMembership(user_id=user.id, account_id=accounts[spec.scope].id,
                                          role=spec.role.value))
    session.flush()
    return len(users)


def _add_patients(session: Session, rng: random.Random, *, count: int, now: datetime,
                  employer_ids: list[int]) -> list[Person]:
    today = now.date()
    employee_numbers = rng.sample(range(100_000, 1_000_000), count)
    rows = []
    for number in employee_numbers:
        rows.append({
            "first_name": rng.choice(_FIRST_NAMES),
            "last_name": rng.choice(_LAST_NAMES),
            "date_of_birth": today - timedelta(days=rng.randint(18 * 365 + 5, 67 * 365)),
            "employee_id": f"E{number}",
            "employer_account_id": rng.choices(employer_ids, _EMPLOYER_WEIGHTS)[0],
        })
    ids: list[int] = []
    for start in range(0, len(rows), _INSERT_BATCH):
        batch = rows[start:start + _INSERT_BATCH]
        ids += session.scalars(insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
                               batch).all()
    return [
        Person(patient_id, row["first_name"], row["last_name"], row["date_of_birth"],
                row["employee_id"], row["employer_account_id"])
        for patient_id, row in zip(ids, rows, strict=True)
    ]


def seed_if_empty(db: Database, *, say: Callable[[str], None] = print) -> bool:
    """Seed the demo data unless the database already has users or reports; True if it did."""
    if not database_is_empty(db):
        say("Database already has data; demo seed skipped.")
        return False
    store = report_files.store()

    def report_progress(done: int, total: int) -> None:
        if done % 1000 == 0 or done == total:
            say(f"  {done:,} of {total:,} reports")

    started = time.perf_counter()
    say("Seeding demo data (synthetic patients and reports)...")
    summary = seed(db, blob_store=store, progress=report_progress, previews=False)
    say(f"Demo data seeded in {time.perf_counter() - started:.1f} s (PDFs in {store.root}):")
    started = time.perf_counter()
    drawn = draw_previews(db, store, most=FIRST_START_PREVIEWS)
    say(f"First-page previews of the newest {drawn:,} reports drawn in "
        f"{time.perf_counter() - started:.1f} s; the rest follow in the background.")
    say(summary.describe())
    return True


def demo_logins_exist(db: Database) -> bool:
    """True when the demo accounts are in this database (so printing their logins helps)."""
    with transaction(db, write=False) as session:
        return session.scalar(select(User.id).where(User.email == _DEMO_USERS[0].email)) is not None


def describe_logins() -> str:
    lines = [f"Demo logins (password {DEMO_PASSWORD}):"]
    lines += [f"  {email:<24} {role}" for email, role in DEMO_LOGINS]
    return "\n".join(lines)
