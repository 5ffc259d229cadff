"""Fill a migrated, empty database with many synthetic report rows, fast, for benchmarks.

    python -m bench.report_rows --reports 1000000 [--patients N] [--database-url URL] [--reset]

Without --database-url it uses a fresh SQLite file, var/bench/report_rows.db (deleted first).
A PostgreSQL database must be empty (or hold only an empty ResultsDesk schema); --reset drops
and re-creates its current schema (normally public) first. A SQLite file given by URL is
deleted by --reset.

Only rows are made, never PDFs: every report gets a distinct fake file_sha256 (the column is
indexed), and a benchmark that downloads maps every report to one real blob (`blob_sha256`).
The fake digests are 64 hex digits that ascend with the report id (the id in hex, then the tail
of a SHA-256), so the index fills by appending: random digests cost SQLite some 9 s more
per million rows.

Speed comes from skipping the ORM. Rows are drawn with one random.Random in plain Python, ids
are assigned here, and the secondary indexes of patients, reports and report_recipients are
dropped for the load and re-created from their own stored definitions afterwards (and, on
PostgreSQL, the foreign keys of those tables too, which re-validates every row when they are
re-added). SQLite gets executemany in one transaction on a connection of its own that is
thrown away afterwards (foreign keys off, synchronous=OFF, a 1 GB page cache, and a rollback
journal instead of WAL for the load, so pages are written once: the pool's idle connections are
closed for that, and the file is back in WAL mode at the end). Its patient-name FTS5 table is
filled by one INSERT ... SELECT instead of the per-row insert trigger, which is dropped and
re-created from its stored text.
PostgreSQL gets COPY ... FREEZE (the empty tables are truncated in the same transaction, so
rows arrive frozen and all-visible, as after a VACUUM), sequences are moved past the ids used,
and the tables are analysed.

The same seed, `now` and counts give the same rows on both backends.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

from sqlalchemy import func, select, text

from db.engine import PROJECT_ROOT, Database
from db.migrate import upgrade
from db.models import (
    Account,
    AccountMembership,
    Membership,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    StaffRole,
    User,
)
from services.identity import terms
from services.insight import report_volume
from services.organizations import npi
from services.reports import report_types

DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "bench" / "report_rows.db"

# The password of every user made here, and its bcrypt hash (cost 12, as services.identity.passwords
# makes them); fixed so a fill costs no hashing.
PASSWORD = "Bench-Password-1!"
PASSWORD_HASH = "$2b$12$VMa9ldQbmB4WJlB.nlSMouFz7NJEA7um5TgAN27hqbnl1dZNHxYJq"

# Shapes borrowed from services/demo/seed.py (copied, not imported: that module loads the PDF
# builders). Results archive 60 days after posting; posting spans the last 120 days.
RETENTION_DAYS = 60
WINDOW_DAYS = 120
TYPE_WEIGHTS = {
    "ccf": 30, "atf": 9, "no_show": 5, "injury_status": 16, "transcription": 9,
    "transcription_summary": 8, "referral": 6, "recheck_reminder": 6, "first_notice": 6,
    "state_wc_form": 5,
}
INJURY_TYPES = frozenset({"injury_status", "first_notice", "transcription", "state_wc_form",
                          "referral", "recheck_reminder"})
EITHER_TYPES = frozenset({"transcription_summary"})  # injury visit 60 %, else an examination
INJURY_SHARE_OF_EITHER = 0.6
NEW_CLAIM_SHARE = 0.35
CLAIM_OPEN_DAYS = 45
# Days from service to posting: injury work 0-5 evenly, non-injury mostly within 72 hours.
NON_INJURY_LAG = [0] * 30 + [1] * 35 + [2] * 20 + [3] * 10 + [4] * 3 + [5] * 2
PAGES = [1] * 50 + [2] * 30 + [3] * 12 + [4] * 6 + [6] * 2
# A recipient's first opening: 80 % of routings, mostly within a day or two of posting.
OPENED_PERCENT = 80
OPENING_HOURS = (1, 2, 4, 8, 12, 20, 26, 30, 44, 50, 66, 80, 110, 170, 300)

EMPLOYERS = (("Harborline Freight Co.", 45), ("Cedar Ridge Fabrication", 35),
             ("Bluebonnet Market Group", 20))
# Share of patients who work for one of the small employers (when there are any).
SMALL_EMPLOYER_SHARE = 0.05
PAYORS = (("Prairie Mutual Insurance", "PMI-"), ("Keystone Casualty Company", "KCC"))
TPA = ("Northgate Claims Services", "NG-")
CLAIM_PAYER_WEIGHTS = (40, 35, 25)  # the two payors, then the TPA
GROUPS = (
    ("Sunbelt Occupational Medicine", (
        ("Sunbelt Occupational Medicine - Houston", "4100 Harrisburg Blvd", "Houston", "TX", 30),
        ("Sunbelt Occupational Medicine - Dallas", "2250 Irving Blvd", "Dallas", "TX", 25),
        ("Sunbelt Occupational Medicine - Tampa", "5310 W Cypress St", "Tampa", "FL", 20),
    )),
    ("Summit Worker Health Partners", (
        ("Summit Worker Health - Sacramento", "1820 Del Paso Blvd", "Sacramento", "CA", 15),
        ("Summit Worker Health - Albany", "96 Wolf Rd", "Albany", "NY", 10),
    )),
)
_SMALL_PREFIXES = (
    "Apex", "Birchwood", "Canyon", "Delta", "Evergreen", "Foxhollow", "Granite", "Harbor",
    "Ironside", "Juniper", "Keystone", "Lakeshore", "Meridian", "Northfield", "Oakridge",
    "Pinecrest", "Quarry", "Redstone", "Silverline", "Tidewater",
)
_SMALL_TRADES = ("Roofing", "Logistics", "Landscaping", "Plumbing", "Auto Body", "Bakery",
                 "Masonry", "Electric", "Welding", "Movers")

# Names are drawn with Zipf-like weights, so a few are very common (Smith, Garcia, Maria) and
# the tail is rare; the RARE names appear about once per 20,000 patients each, so a name search
# can be very selective too ("smi" matches Smith and the rare Smirnov / Smiley).
FIRST_NAMES = (
    "James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Patricia", "John",
    "Elizabeth", "Jose", "Barbara", "William", "Susan", "Richard", "Jessica", "Carlos", "Sarah",
    "Joseph", "Karen", "Thomas", "Nancy", "Daniel", "Lisa", "Christopher", "Betty", "Matthew",
    "Sandra", "Anthony", "Ashley", "Mark", "Kimberly", "Juan", "Emily", "Steven", "Donna", "Luis",
    "Michelle", "Andrew", "Carol", "Joshua", "Amanda", "Kevin", "Melissa", "Brian", "Deborah",
    "Ryan", "Stephanie", "Jacob", "Rebecca", "Gary", "Sharon", "Eric", "Laura", "Jonathan",
    "Cynthia", "Samuel", "Angela", "Gregory", "Yolanda", "Marcus", "Keisha", "Hector", "Fatima",
    "Rafael", "Priya", "Omar", "Linh", "Wei", "Tyrone", "Terrell", "Dmitri", "Ngozi", "Mateo",
    "Siobhan", "Aaliyah", "Tomasz", "Yusuf", "Ingrid", "Kenji",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
    "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Okonkwo", "Kowalski",
    "Delgado", "Brennan", "Whitaker", "Huang", "Fitzgerald", "Ibarra", "Lindqvist", "Petrovic",
    "O'Brien",
)
RARE_LAST_NAMES = (
    "Smirnov", "Smiley", "Abernathy", "Quintero", "Vasquez-Ortega", "Zielinski", "Yamamoto",
    "Xiong", "Oyelaran", "Thistlewood", "Nakashima", "Fairbanks", "Gallagher", "Haugland",
    "Iwu", "Jorgensen", "Kaczmarek", "Lachance", "Marchetti", "Nordqvist",
)
_RARE_SHARE = 1 / 20_000


class DatabaseNotEmpty(RuntimeError):
    """Rows go only into an empty (migrated) database."""


def _zipf(names: tuple[str, ...], exponent: float = 1.0) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(len(names))]


def _cumulative(weights) -> list[float]:
    return list(accumulate(weights))


def _small_employer_names(count: int) -> list[str]:
    names = [f"{prefix} {trade}" for trade in _SMALL_TRADES for prefix in _SMALL_PREFIXES]
    if count > len(names):
        raise ValueError(f"at most {len(names)} small employers")
    return names[:count]


# --- Organisations and users (few rows: the ORM is fine) -------------------------------------


def _has_rows(session) -> bool:
    return any(session.scalar(select(model.id).limit(1)) is not None
               for model in (Account, ProviderGroup, User, Patient, Report))


def _organisations(db: Database, rng: random.Random, *, now: datetime,
                   small_employers: int) -> dict:
    with db.transaction() as session:
        if _has_rows(session):
            raise DatabaseNotEmpty("the database already has accounts, users, patients or reports")
        employers = [Account(name=name, kind="employer", created_at=now) for name, _ in EMPLOYERS]
        smalls = [Account(name=name, kind="employer", created_at=now)
                  for name in _small_employer_names(small_employers)]
        payors = [Account(name=name, kind="payor", created_at=now) for name, _ in PAYORS]
        tpa = Account(name=TPA[0], kind="tpa", created_at=now)
        session.add_all([*employers, *payors, tpa, *smalls])

        used: set[str] = set()
        groups, providers, provider_weights = [], [], []
        for group_name, locations in GROUPS:
            group = ProviderGroup(name=group_name, npi=npi.unused(rng, used), created_at=now)
            groups.append(group)
            for name, street, city, state, weight in locations:
                providers.append(Provider(group=group, name=name, npi=npi.unused(rng, used),
                                          address=street, city=city, state=state))
                provider_weights.append(weight)
        session.add_all(groups)
        session.add_all(providers)
        session.flush()

        # One user per kind of scope, for scope tests. The small employer is the smallest one.
        specs = [
            ("employer", "fill-employer@bench.test", "Erin Employer", ("account", employers[0].id)),
            ("small_employer", "fill-small-employer@bench.test", "Sid Small",
             ("account", smalls[-1].id) if smalls else None),
            ("payor", "fill-payor@bench.test", "Paula Payor", ("account", payors[0].id)),
            ("tpa", "fill-tpa@bench.test", "Tariq Tpa", ("account", tpa.id)),
            ("provider_staff", "fill-clinic@bench.test", "Casey Clinic",
             ("provider_staff", providers[0])),
            ("group_admin", "fill-groupadmin@bench.test", "Gwen Groupadmin",
             ("provider_group_admin", groups[0])),
            ("support_rep", "fill-support@bench.test", "Sasha Support", ("support_rep", None)),
            ("manager", "fill-manager@bench.test", "Morgan Manager", ("manager", None)),
        ]
        users: dict[str, dict] = {}
        for key, email, name, scope in specs:
            if scope is None:
                continue
            user = User(email=email, name=name, password_hash=PASSWORD_HASH, status="active",
                        created_at=now)
            session.add(user)
            session.flush()
            terms.record_acceptance(session, user, now=now)
            kind, target = scope
            if kind == "account":
                session.add(AccountMembership(user_id=user.id, account_id=target,
                                              role="account_user"))
            elif kind == "provider_staff":
                session.add(Membership(user_id=user.id, group_id=target.group_id,
                                       provider_id=target.id, role="provider_staff"))
            elif kind == "provider_group_admin":
                session.add(Membership(user_id=user.id, group_id=target.id, provider_id=None,
                                       role="provider_group_admin"))
            else:
                session.add(StaffRole(user_id=user.id, role=kind))
            users[key] = {"id": user.id, "email": email, "scope": _describe_scope(scope)}
        session.flush()
        return {
            "employer_ids": [a.id for a in employers],
            "small_employer_ids": [a.id for a in smalls],
            "payor_ids": [a.id for a in payors],
            "tpa_id": tpa.id,
            "group_ids": [g.id for g in groups],
            "providers": [(p.id, p.state) for p in providers],
            "provider_weights": provider_weights,
            "users": users,
        }


def _describe_scope(scope: tuple) -> str:
    kind, target = scope
    if kind == "account":
        return f"account_user of account {target}"
    if kind == "provider_staff":
        return f"provider_staff of provider {target.id} (group {target.group_id})"
    if kind == "provider_group_admin":
        return f"provider_group_admin of group {target.id}"
    return f"staff role {kind}"


# --- Row generation ---------------------------------------------------------------------------


def _patient_rows(rng: random.Random, count: int, *, first_id: int, today: date,
                  employer_ids: list[int], small_ids: list[int]) -> tuple[list[tuple], list[int]]:
    """Patient rows (id, first, last, dob, employee id, employer) and each one's employer."""
    weights = [weight * (1 - SMALL_EMPLOYER_SHARE if small_ids else 1) for _, weight in EMPLOYERS]
    if small_ids:
        # Zipf over the small ones: the smallest has a few dozen patients per 200,000.
        zipf = _zipf(tuple(map(str, small_ids)))
        scale = 100 * SMALL_EMPLOYER_SHARE / sum(zipf)
        weights += [w * scale for w in zipf]
    employers = rng.choices([*employer_ids, *small_ids], weights, k=count)
    first = rng.choices(FIRST_NAMES, cum_weights=_cumulative(_zipf(FIRST_NAMES, 0.5)), k=count)
    last_weights = _zipf(LAST_NAMES, 0.5)
    rare_weight = sum(last_weights) * _RARE_SHARE
    last = rng.choices(LAST_NAMES + RARE_LAST_NAMES,
                       cum_weights=_cumulative(last_weights + [rare_weight] * len(RARE_LAST_NAMES)),
                       k=count)
    numbers = rng.sample(range(100_000, 100_000 + max(900_000, 5 * count)), count)
    rnd = rng.random
    oldest, span = today.toordinal() - 67 * 365, (67 - 18) * 365
    dob_cache: dict[int, str] = {}
    rows = []
    for index in range(count):
        ordinal = oldest + int(rnd() * span)
        dob = dob_cache.get(ordinal)
        if dob is None:
            dob = dob_cache[ordinal] = date.fromordinal(ordinal).isoformat()
        rows.append((first_id + index, first[index], last[index], dob, f"E{numbers[index]}",
                     employers[index]))
    return rows, employers


class _Stats:
    __slots__ = ("archived", "claims", "injury", "recipients", "reports")

    def __init__(self) -> None:
        self.reports = self.archived = self.injury = self.claims = self.recipients = 0


def _report_batches(rng: random.Random, *, count: int, first_id: int, now_epoch: int,
                    patient_first_id: int, patient_employers: list[int], orgs: dict,
                    time_suffix: str, batch_size: int, stats: _Stats,
                    ) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Report rows and their routing rows, oldest first, `batch_size` reports at a time.

    Timestamps are text: 'YYYY-MM-DD HH:MM:SS' + time_suffix (SQLite's stored form is
    '.000000', PostgreSQL's COPY input '+00'); dates are 'YYYY-MM-DD'.
    """
    rnd = rng.random
    window = WINDOW_DAYS * 86_400
    start = now_epoch - window
    archive_before = now_epoch - RETENTION_DAYS * 86_400
    type_keys = list(TYPE_WEIGHTS)
    types = rng.choices(type_keys, cum_weights=_cumulative(TYPE_WEIGHTS.values()), k=count)
    offsets = [int(rnd() * window) for _ in range(count)]
    offsets.sort()  # oldest first: ids grow with posting time, as in the portal

    day0 = start // 86_400 - 10  # room for service dates and injury dates before the window
    epoch = date(1970, 1, 1)
    days = [(epoch + timedelta(days=day0 + k)).isoformat()
            for k in range(now_epoch // 86_400 - day0 + 2)]
    times = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{time_suffix}" for s in range(86_400)]

    patients = len(patient_employers)
    provider_ids = [pid for pid, _ in orgs["providers"]]
    provider_states = [state for _, state in orgs["providers"]]
    provider_pick = [index for index, weight in enumerate(orgs["provider_weights"])
                     for _ in range(weight)]
    n_pick = len(provider_pick)
    payer_ids = [*orgs["payor_ids"], orgs["tpa_id"]]
    payer_kinds = ["payor"] * len(orgs["payor_ids"]) + ["tpa"]
    prefixes = [prefix for _, prefix in PAYORS] + [TPA[1]]
    payer_pick = [index for index, weight in enumerate(CLAIM_PAYER_WEIGHTS) for _ in range(weight)]
    n_payer = len(payer_pick)
    # Per type: 1 injury, 0 not, -1 either. Routing per type and per payer.
    injury_of = {t: 1 if t in INJURY_TYPES else -1 if t in EITHER_TYPES else 0 for t in type_keys}
    received = orgs["received"]
    employer_gets = {t: t in received["employer"] for t in type_keys}
    payer_gets = [{t: t in received[kind] for t in type_keys} for kind in payer_kinds]
    lags = NON_INJURY_LAG
    n_lags = len(lags)
    pages_pick = PAGES
    n_pages = len(pages_pick)
    sha256 = hashlib.sha256

    def opening(key: int, posted: int) -> str | None:
        # Drawn from a hash of the routing, not from rng, so the reports stay what they were.
        mixed = (key * 2_654_435_761) & 0xFFFF_FFFF
        if mixed % 100 >= OPENED_PERCENT:
            return None
        opened = posted + OPENING_HOURS[(mixed >> 8) % len(OPENING_HOURS)] * 3600 + (mixed >> 16) % 3600
        if opened >= now_epoch:
            return None
        day = opened // 86_400
        return days[day - day0] + times[opened - day * 86_400]

    claim_number: list[str] = []
    claim_patient: list[int] = []
    claim_provider: list[int] = []
    claim_payer: list[int] = []
    claim_day: list[int] = []
    numbers_used: set[str] = set()
    open_from = 0  # claims before this index are closed (injury more than 45 days ago)

    reports: list[tuple] = []
    routes: list[tuple] = []
    archived = injuries = 0
    for index in range(count):
        report_type = types[index]
        posted = start + offsets[index]
        posted_day = posted // 86_400
        stamp = days[posted_day - day0] + times[posted - posted_day * 86_400]
        injury = injury_of[report_type]
        if injury < 0:
            injury = rnd() < INJURY_SHARE_OF_EITHER
        if injury:
            service_day = posted_day - int(rnd() * 6)
            n_claims = len(claim_day)
            while open_from < n_claims and claim_day[open_from] < service_day - CLAIM_OPEN_DAYS:
                open_from += 1
            if (report_type == "first_notice" or open_from >= n_claims
                    or rnd() < NEW_CLAIM_SHARE):
                payer = payer_pick[int(rnd() * n_payer)]
                number = ""
                while not number or number in numbers_used:
                    number = f"{prefixes[payer]}{10_000_000 + int(rnd() * 90_000_000)}"
                numbers_used.add(number)
                claim = n_claims
                claim_number.append(number)
                claim_patient.append(int(rnd() * patients))
                claim_provider.append(provider_pick[int(rnd() * n_pick)])
                claim_payer.append(payer)
                claim_day.append(service_day - int(rnd() * 3))
            else:
                claim = open_from + int(rnd() * (n_claims - open_from))
                service_day = max(service_day, claim_day[claim])
            patient = claim_patient[claim]
            provider = claim_provider[claim]
            payer = claim_payer[claim]
            number = claim_number[claim]
            injuries += 1
        else:
            service_day = posted_day - lags[int(rnd() * n_lags)]
            patient = int(rnd() * patients)
            provider = provider_pick[int(rnd() * n_pick)]
            payer = -1
            number = None
        report_id = first_id + index
        pages = pages_pick[int(rnd() * n_pages)]
        if posted < archive_before:
            status = "archived"
            archived += 1
        else:
            status = "available"
        reports.append((
            report_id, report_type, patient_first_id + patient, provider_ids[provider],
            days[service_day - day0], stamp, stamp, status, bool(injury), provider_states[provider],
            number, f"{report_id:010x}" + sha256(b"%d" % report_id).hexdigest()[10:],
            9_000 + pages * 17_000 + int(rnd() * 15_000), pages,
        ))
        if employer_gets[report_type]:
            routes.append((report_id, patient_employers[patient], stamp,
                           opening(report_id * 2, posted)))
        if payer >= 0 and payer_gets[payer][report_type]:
            routes.append((report_id, payer_ids[payer], stamp, opening(report_id * 2 + 1, posted)))
        if len(reports) >= batch_size:
            stats.recipients += len(routes)
            yield reports, routes
            reports, routes = [], []
    stats.recipients += len(routes)
    if reports:
        yield reports, routes
    stats.reports, stats.archived, stats.injury, stats.claims = (
        count, archived, injuries, len(claim_day))


# --- Loading ----------------------------------------------------------------------------------

PATIENT_COLUMNS = "id, first_name, last_name, date_of_birth, employee_id, employer_account_id"
REPORT_COLUMNS = ("id, report_type, patient_id, provider_id, service_date, posted_at, delivered_at, "
                  "status, injury, state, claim_number, file_sha256, file_size, page_count")
RECIPIENT_COLUMNS = "report_id, account_id, routed_at, first_opened_at"
_BULK_TABLES = ("patients", "reports", "report_recipients")
# SQLite: the trigger of migration 0002 that copies each new patient's name into the FTS5
# table, and the statement that does the same for all of them at once (must match it).
_FTS_INSERT_TRIGGER = "patients_name_insert"
_FTS_FILL = ("INSERT INTO patient_name_search (rowid, name) "
             "SELECT id, first_name || ' ' || last_name FROM patients")
_BATCH = 50_000


def _next_id(db: Database, model) -> int:
    with db.transaction(write=False) as session:
        return (session.scalar(select(func.max(model.id))) or 0) + 1


def _load_sqlite(db: Database, patients: list[tuple], batches, seconds: dict) -> None:
    raw = db.engine.raw_connection()
    try:
        con = raw.driver_connection  # autocommit mode: the engine's connect hook set that
        # Only for this connection, which is thrown away below: the pool never hands it out.
        con.execute("PRAGMA foreign_keys=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1000000")
        con.execute("PRAGMA temp_store=MEMORY")
        # In WAL mode every page is written twice (to the log at commit, to the file at the
        # checkpoint). A rollback journal holds only the pages that existed before, few here;
        # leaving WAL needs the only connection, so the pool's idle ones are closed first.
        db.engine.dispose()
        try:
            journal = con.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError:  # another connection is open: stay in WAL
            journal = "wal"
        con.execute("BEGIN IMMEDIATE")
        try:
            marks = time.perf_counter()
            placeholders = ", ".join("?" * len(_BULK_TABLES))
            indexes = con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({placeholders})", _BULK_TABLES).fetchall()
            for name, _ in indexes:
                con.execute(f'DROP INDEX "{name}"')
            # The FTS5 name copy is kept by a per-row trigger; one INSERT ... SELECT after the
            # load is some ten times faster. The trigger comes back from its own stored text.
            (trigger,) = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                                     f" AND name = '{_FTS_INSERT_TRIGGER}'").fetchone()
            con.execute(f"DROP TRIGGER {_FTS_INSERT_TRIGGER}")
            con.executemany(f"INSERT INTO patients ({PATIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                            patients)
            con.execute(_FTS_FILL)
            con.execute(trigger)
            seconds["patients"] = time.perf_counter() - marks
            marks = time.perf_counter()
            report_sql = f"INSERT INTO reports ({REPORT_COLUMNS}) VALUES ({', '.join('?' * 14)})"
            route_sql = f"INSERT INTO report_recipients ({RECIPIENT_COLUMNS}) VALUES (?, ?, ?, ?)"
            for reports, routes in batches:
                con.executemany(report_sql, reports)
                con.executemany(route_sql, routes)
            seconds["reports"] = time.perf_counter() - marks
            marks = time.perf_counter()
            for _, sql in indexes:
                con.execute(sql)
            seconds["indexes"] = time.perf_counter() - marks
            marks = time.perf_counter()
            con.execute("COMMIT")
            seconds["commit"] = time.perf_counter() - marks
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            # Back to WAL (every new connection would switch anyway), or empty the log now
            # rather than in the benchmark's first write.
            with contextlib.suppress(sqlite3.OperationalError):
                con.execute("PRAGMA journal_mode=WAL" if journal != "wal"
                            else "PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.invalidate()  # closes it: its pragmas never reach the application


def _load_postgresql(db: Database, patients: list[tuple], batches, seconds: dict) -> None:
    raw = db.engine.raw_connection()
    try:
        con = raw.driver_connection
        con.rollback()  # start from no transaction, so the block below is the outer one
        with con.transaction(), con.cursor() as cur:
            marks = time.perf_counter()
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cur.execute("SET LOCAL synchronous_commit = off")
            # Empty already (checked); truncating here lets COPY write the rows frozen.
            cur.execute("TRUNCATE patients, reports, report_recipients, report_reads, hipaa_incidents")
            tables = "ARRAY[" + ", ".join(f"'{t}'::regclass" for t in _BULK_TABLES) + "]"
            cur.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                f"WHERE indrelid = ANY({tables}) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)")
            indexes = cur.fetchall()
            cur.execute(
                "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
                f"FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY({tables})")
            foreign_keys = cur.fetchall()
            for table, name, _ in foreign_keys:
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {name}")
            with cur.copy(f"COPY patients ({PATIENT_COLUMNS}) FROM STDIN (FREEZE)") as copy:
                for row in patients:
                    copy.write_row(row)
            seconds["patients"] = time.perf_counter() - marks
            marks = time.perf_counter()
            routes_all: list[list[tuple]] = []
            with cur.copy(f"COPY reports ({REPORT_COLUMNS}) FROM STDIN (FREEZE)") as copy:
                for reports, routes in batches:
                    for row in reports:
                        copy.write_row(row)
                    routes_all.append(routes)
            with cur.copy(f"COPY report_recipients ({RECIPIENT_COLUMNS}) FROM STDIN (FREEZE)") as copy:
                for routes in routes_all:
                    for row in routes:
                        copy.write_row(row)
            del routes_all
            seconds["reports"] = time.perf_counter() - marks
            marks = time.perf_counter()
            for _, definition in indexes:
                cur.execute(definition)
            for table, name, definition in foreign_keys:
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            seconds["indexes"] = time.perf_counter() - marks
            marks = time.perf_counter()
            for table in ("patients", "reports"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                            f"FROM {table} HAVING max(id) IS NOT NULL")
            cur.execute("ANALYZE patients, reports, report_recipients")
            seconds["analyze"] = time.perf_counter() - marks
            marks = time.perf_counter()
        seconds["commit"] = time.perf_counter() - marks
    finally:
        raw.invalidate()


def fill(db: Database, *, reports: int, patients: int | None = None, blob_sha256: str,
         now: datetime, seed: int = 7, small_employers: int = 40) -> dict:
    """Fill a migrated, empty database with `reports` synthetic reports; counts and seconds.

    Makes 3 employers (plus `small_employers` small ones, about 5 % of the patients between
    them, Zipf-shaped), 2 payors, 1 TPA, 2 provider groups with 5 providers, `patients`
    patients (default reports // 5, at least 1), the reports posted over the 120 days before
    `now` (archived when older than 60 days), their routing rows, and one user per kind of
    scope (password PASSWORD). Every report's file_sha256 is a distinct fake digest; the
    caller serves `blob_sha256` for all of them. Raises DatabaseNotEmpty unless the database
    has no accounts, groups, users, patients or reports. On SQLite it closes the engine's idle
    pooled connections (db stays usable).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if reports < 0:
        raise ValueError("reports must not be negative")
    if len(blob_sha256) != 64 or any(c not in "0123456789abcdef" for c in blob_sha256):
        raise ValueError("blob_sha256 must be 64 lower-case hex digits")
    patients = max(1, reports // 5) if patients is None else patients
    if patients < 1:
        raise ValueError("at least one patient is needed")
    now = now.astimezone(timezone.utc).replace(microsecond=0)
    now_epoch = int(now.timestamp())
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    orgs = _organisations(db, rng, now=now, small_employers=small_employers)
    # Routing as posting does it: each kind's standard set from the report type list (the
    # bench's accounts have no exceptions of their own).
    listed = report_types.active_types(db)
    orgs["received"] = {kind: frozenset(t.code for t in listed if t.standard_for(kind))
                        for kind in ("employer", "payor", "tpa")}
    patient_first_id, report_first_id = _next_id(db, Patient), _next_id(db, Report)
    seconds["organisations"] = time.perf_counter() - started

    marks = time.perf_counter()
    patient_rows, patient_employers = _patient_rows(
        rng, patients, first_id=patient_first_id, today=now.date(),
        employer_ids=orgs["employer_ids"], small_ids=orgs["small_employer_ids"])
    seconds["patient_rows"] = time.perf_counter() - marks

    stats = _Stats()
    batches = _report_batches(
        rng, count=reports, first_id=report_first_id, now_epoch=now_epoch,
        patient_first_id=patient_first_id, patient_employers=patient_employers, orgs=orgs,
        time_suffix=".000000" if db.is_sqlite else "+00", batch_size=_BATCH, stats=stats)
    (_load_sqlite if db.is_sqlite else _load_postgresql)(db, patient_rows, batches, seconds)
    marks = time.perf_counter()
    report_volume.rebuild(db)  # the Dashboard's rollup, as posting would have kept it
    seconds["rollup"] = time.perf_counter() - marks
    seconds["total"] = time.perf_counter() - started

    return {
        "reports": stats.reports,
        "archived_reports": stats.archived,
        "available_reports": stats.reports - stats.archived,
        "injury_reports": stats.injury,
        "claims": stats.claims,
        "report_recipients": stats.recipients,
        "patients": patients,
        "report_ids": (report_first_id, report_first_id + reports - 1) if reports else None,
        "patient_ids": (patient_first_id, patient_first_id + patients - 1),
        "employer_account_ids": orgs["employer_ids"],
        "small_employer_account_ids": orgs["small_employer_ids"],
        "payor_account_ids": orgs["payor_ids"],
        "tpa_account_id": orgs["tpa_id"],
        "provider_group_ids": orgs["group_ids"],
        "provider_ids": [pid for pid, _ in orgs["providers"]],
        "users": orgs["users"],
        "password": PASSWORD,
        "blob_sha256": blob_sha256,
        "seed": seed,
        "now": now.isoformat(),
        "seconds": {key: round(value, 2) for key, value in seconds.items()},
    }


# --- Command line -----------------------------------------------------------------------------


def _sqlite_file(url: str | None, reset: bool) -> str:
    if url is None:
        path = DEFAULT_SQLITE_PATH
        reset = True
    else:
        database = Database(url)
        path = Path(database.url.database or "")
        database.dispose()
        if not path.name or str(path) == ":memory:":
            raise SystemExit("an in-memory SQLite database would vanish with the connection")
    if reset:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return url or f"sqlite:///{path}"


def _prepare_postgresql(db: Database, reset: bool) -> None:
    with db.engine.begin() as connection:
        schema = connection.scalar(text("SELECT current_schema()"))
        if schema is None:
            raise SystemExit("no current schema (search_path names none that exists)")
        tables = set(connection.scalars(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema"),
            {"schema": schema}))
        if reset:
            # Re-created with the same owner and the same grants to PUBLIC (on PostgreSQL 15
            # public belongs to pg_database_owner, and PUBLIC may only use it).
            quoted, owner, acl, comment = connection.execute(text(
                "SELECT quote_ident(nspname), quote_ident(pg_get_userbyid(nspowner)),"
                " nspacl::text[], obj_description(oid, 'pg_namespace')"
                " FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}).one()
            connection.execute(text(f"DROP SCHEMA {quoted} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {quoted} AUTHORIZATION {owner}"))
            if comment is not None:
                connection.execute(text(f"COMMENT ON SCHEMA {quoted} IS "
                                        + connection.scalar(text("SELECT quote_literal(:c)"),
                                                            {"c": comment})))
            for item in acl or ():
                grantee, _, rest = item.partition("=")
                rights = [name for letter, name in (("U", "USAGE"), ("C", "CREATE"))
                          if letter in rest.split("/")[0]]
                if not grantee and rights:
                    connection.execute(text(f"GRANT {', '.join(rights)} ON SCHEMA {quoted} TO PUBLIC"))
            return
        if tables and "alembic_version" not in tables:
            raise SystemExit(f"schema {schema} holds other tables ({', '.join(sorted(tables)[:5])}"
                             "...): refusing; --reset drops and re-creates it")
        if "reports" in tables and connection.scalar(text(
                "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM users)"
                " OR EXISTS (SELECT 1 FROM patients) OR EXISTS (SELECT 1 FROM reports)")):
            raise SystemExit(f"schema {schema} already has data: refusing; --reset drops and "
                             "re-creates it")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=None, help="default: reports // 5")
    parser.add_argument("--small-employers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None,
                        help=f"default: a fresh SQLite file, {DEFAULT_SQLITE_PATH}")
    parser.add_argument("--reset", action="store_true",
                        help="PostgreSQL: drop and re-create the current schema first; "
                             "SQLite: delete the file first")
    args = parser.parse_args(argv)

    url = args.database_url
    is_sqlite = url is None or Database(url).is_sqlite
    if is_sqlite:
        url = _sqlite_file(url, args.reset)
    db = Database(url)
    try:
        if not db.is_sqlite:
            _prepare_postgresql(db, args.reset)
        started = time.perf_counter()
        upgrade(db)
        migrated = time.perf_counter() - started
        # Any digest will do for a bare fill; a benchmark passes the blob it really stored.
        result = fill(db, reports=args.reports, patients=args.patients,
                      blob_sha256=hashlib.sha256(b"bench blob").hexdigest(),
                      now=datetime.now(timezone.utc), seed=args.seed,
                      small_employers=args.small_employers)
    except DatabaseNotEmpty as error:
        db.dispose()
        raise SystemExit(f"{error}: refusing; --reset starts from an empty database") from None
    except Exception:
        db.dispose()
        raise
    db.dispose()
    print(f"Database: {db.url.render_as_string(hide_password=True)}")
    print(f"Migrated in {migrated:.2f} s")
    for key in ("reports", "available_reports", "archived_reports", "injury_reports", "claims",
                "report_recipients", "patients"):
        print(f"  {key.replace('_', ' ')}: {result[key]:,}")
    print(f"  employer accounts: {result['employer_account_ids']} "
          f"(+ {len(result['small_employer_account_ids'])} small)")
    print(f"  payor accounts: {result['payor_account_ids']}, TPA: {result['tpa_account_id']}")
    print(f"  providers: {result['provider_ids']} in groups {result['provider_group_ids']}")
    print(f"Users (password {result['password']}):")
    for key, user in result["users"].items():
        print(f"  {user['id']:>3} {user['email']:<34} {user['scope']}")
    print("Seconds: " + ", ".join(f"{key} {value:.2f}" for key, value in result["seconds"].items()))


if __name__ == "__main__":
    main()
