"""Report search as the search page sees it: each filter narrows to exactly the right reports,
newest first, keyset pages of 50 with no report lost or repeated, a count capped for huge
results, read markers per user, and filter choices limited to the user's own scope."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, time, timedelta, timezone

import pytest

from db.models import (
    REPORT_STATUSES,
    Account,
    Patient,
    Report,
    ReportRecipient,
)
from services.errors import InvalidInput
from services.reports import access, report_types, search
from services.reports.search import PAGE_SIZE, ReportFilter, ReportPage
from tests.services.report_world import (
    SPEC,
    add_report,
    events,
    listing,
    load_principal,
)

UTC = timezone.utc


def _keys(world, user_key: str, report_filter: ReportFilter = ReportFilter()) -> set[str]:
    principal = world.principal(user_key)
    page = search.search(world.db, principal, report_filter, purpose=listing(principal))
    assert page.next_cursor is None
    assert page.count == len(page.rows) and not page.count_capped
    return {world.key_of(row.id) for row in page.rows}


# --- each filter narrows ---------------------------------------------------------------------

@pytest.mark.parametrize("report_filter, expected", [
    (ReportFilter(report_types=("ccf", "referral")), {"acme_ccf", "globex_ccf", "globex_referral"}),
    (ReportFilter(report_types=("first_notice",)), {"acme_first_notice"}),
    (ReportFilter(report_types=("state_wc_form",)), set()),
    # Posting dates: whole days, both ends included.
    (ReportFilter(posted_from=date(2026, 10, 4), posted_to=date(2026, 10, 6)),
     {"acme_injury", "globex_referral", "acme_recheck"}),
    (ReportFilter(posted_from=date(2026, 10, 9)), {"acme_withdrawn", "unrouted"}),
    (ReportFilter(posted_to=date(2026, 10, 2)), {"acme_archived", "acme_ccf"}),
    (ReportFilter(posted_from=date(2026, 10, 5), posted_to=date(2026, 10, 5)), {"globex_referral"}),
    # Service dates, both ends included.
    (ReportFilter(service_from=date(2026, 10, 2), service_to=date(2026, 10, 4)),
     {"globex_ccf", "acme_injury", "globex_referral"}),
    (ReportFilter(service_to=date(2026, 10, 1)), {"acme_ccf", "acme_archived"}),
    (ReportFilter(service_from=date(2026, 10, 8)), {"unrouted", "acme_withdrawn"}),
    # Employee id: exact, surrounding spaces ignored.
    (ReportFilter(employee_id="E200"), {"acme_injury", "acme_recheck", "acme_first_notice"}),
    (ReportFilter(employee_id="  E400 "), {"globex_referral", "unrouted"}),
    (ReportFilter(employee_id="E999"), set()),
    # Account (staff may pick any), provider, state (any case), injury.
    (ReportFilter(account_id="globex"), {"globex_ccf", "globex_referral", "globex_transcription"}),
    # What the payor sees: what was routed to it, the recheck reminder included.
    (ReportFilter(account_id="payco"), {"acme_injury", "acme_recheck"}),
    (ReportFilter(provider_id="p2a"), {"globex_ccf", "globex_transcription", "unrouted"}),
    (ReportFilter(provider_id="p1b"), {"acme_injury", "acme_first_notice"}),
    (ReportFilter(state="ok"), {"acme_injury", "acme_first_notice"}),
    (ReportFilter(state=" CA "), {"globex_ccf", "globex_transcription", "unrouted"}),
    (ReportFilter(state="NY"), set()),
    (ReportFilter(injury=False), {"acme_ccf", "acme_archived", "acme_withdrawn", "globex_ccf"}),
    (ReportFilter(injury=True), {"acme_injury", "acme_recheck", "acme_first_notice",
                                 "globex_referral", "globex_transcription", "unrouted"}),
    # Staff statuses.
    (ReportFilter(statuses=("archived",)), {"acme_archived"}),
    (ReportFilter(statuses=("archived", "withdrawn")), {"acme_archived", "acme_withdrawn"}),
    # Filters combine (AND).
    (ReportFilter(injury=True, provider_id="p1a", report_types=("referral", "recheck_reminder")),
     {"globex_referral", "acme_recheck"}),
    (ReportFilter(injury=True, state="CA", service_to=date(2026, 10, 6)), {"globex_transcription"}),
])
def test_each_filter_narrows_for_staff(db, world, report_filter, expected):
    # Account and provider are given by key in the table; turn them into ids here.
    if isinstance(report_filter.account_id, str):
        report_filter = _replace(report_filter, account_id=world.account[report_filter.account_id])
    if isinstance(report_filter.provider_id, str):
        report_filter = _replace(report_filter, provider_id=world.provider[report_filter.provider_id])
    assert _keys(world, "support", report_filter) == expected


def _replace(report_filter: ReportFilter, **changes) -> ReportFilter:
    return dataclasses.replace(report_filter, **changes)


def test_filters_only_narrow_a_client_users_scope(db, world):
    assert _keys(world, "acme_user", ReportFilter(injury=False)) == {"acme_ccf"}
    assert _keys(world, "acme_user", ReportFilter(employee_id="E100")) == {"acme_ccf"}
    assert _keys(world, "acme_user", ReportFilter(employee_id="E300")) == set()  # Globex's patient
    assert _keys(world, "acme_user", ReportFilter(state="tx")) == {"acme_ccf", "acme_recheck"}
    assert _keys(world, "acme_user", ReportFilter(account_id=world.account["acme"])) == {
        "acme_ccf", "acme_injury", "acme_recheck", "acme_first_notice"}
    assert _keys(world, "acme_user", ReportFilter(posted_to=date(2026, 9, 30))) == set()  # archived
    assert _keys(world, "tpa_user", ReportFilter(report_types=("first_notice", "referral"))) == {
        "globex_referral", "acme_first_notice"}
    assert _keys(world, "tpa_user", ReportFilter(report_types=("ccf",))) == set()


@pytest.mark.parametrize("report_filter, message", [
    (ReportFilter(report_types=("ccf", "lab_results")), "Unknown report type"),
    (ReportFilter(statuses=("deleted",)), "Unknown report status"),
    (ReportFilter(posted_from=date(2026, 10, 5), posted_to=date(2026, 10, 4)), "posting date range"),
    (ReportFilter(service_from=date(2026, 10, 5), service_to=date(2026, 10, 4)), "service date range"),
    (ReportFilter(patient_name="!!! -- ?"), "at least one letter or digit"),
    (ReportFilter(patient_name="'"), "at least one letter or digit"),
])
def test_invalid_filters_are_refused(db, world, report_filter, message):
    with pytest.raises(InvalidInput, match=message):
        support = world.principal("support")
        search.search(world.db, support, report_filter, purpose=listing(support))


# --- report number: exact, and only inside one's scope ---------------------------------------

def test_a_report_number_finds_exactly_that_report(db, world):
    wanted = world.report["globex_referral"]
    assert _keys(world, "support", ReportFilter(report_id=wanted)) == {"globex_referral"}
    assert _keys(world, "globex_user", ReportFilter(report_id=wanted)) == {"globex_referral"}
    # Staff find archived and withdrawn reports by number too.
    assert _keys(world, "support", ReportFilter(report_id=world.report["acme_withdrawn"])) == {
        "acme_withdrawn"}
    # Other filters still apply on top of the number.
    assert _keys(world, "support", ReportFilter(report_id=wanted, report_types=("ccf",))) == set()


def test_a_report_number_outside_ones_scope_finds_what_a_missing_one_finds(db, world):
    missing = max(world.report.values()) + 1000
    before = len(_denials(world))
    for user_key, report_key in [("acme_user", "globex_referral"), ("acme_user", "unrouted"),
                                 ("acme_user", "acme_archived"), ("staff_p2a", "acme_ccf"),
                                 ("tpa_user", "acme_ccf")]:
        other = search.search(world.db, world.principal(user_key),
                              ReportFilter(report_id=world.report[report_key]))
        absent = search.search(world.db, world.principal(user_key), ReportFilter(report_id=missing))
        assert (other.rows, other.count, other.count_capped) == ([], 0, False), (user_key, report_key)
        assert (absent.rows, absent.count, absent.count_capped) == ([], 0, False)
        assert search.count(world.db, world.principal(user_key),
                            ReportFilter(report_id=world.report[report_key])) == (0, False)
    # Nothing in the trail tells the two apart either.
    assert len(_denials(world)) == before


def _denials(world) -> list:
    return [e for e in events(world.db) if e.action == "permission.denied"]


@pytest.mark.parametrize("typed, number", [("4992", 4992), (" #4992 ", 4992), ("# 17", 17),
                                           ("", None), ("   ", None), ("#", None)])
def test_a_typed_report_number_is_read_as_digits(typed, number):
    assert search.report_number(typed) == number


@pytest.mark.parametrize("typed", ["49 92", "4992a", "-4992", "4.5", "١٢٣", "9" * 19])
def test_a_report_number_that_is_not_digits_is_refused(typed):
    with pytest.raises(InvalidInput, match="digits only"):
        search.report_number(typed)


# --- patient name: word prefixes, any case, any order ---------------------------------------

@pytest.mark.parametrize("typed, patients", [
    ("smith", {"john", "joan"}),
    ("SMITH", {"john", "joan"}),
    ("Smithers", {"joan"}),
    ("jo smith", {"john", "joan"}),
    ("joh smi", {"john"}),
    ("smith john", {"john"}),
    ("  smith,   JOHN  ", {"john"}),
    ("mar", {"maria", "mj"}),
    ("gonzalez maria", {"maria"}),
    ("jane", {"mj"}),
    ("o'neil", {"mj"}),
    ("neil", {"mj"}),
    ("mary-jane", {"mj"}),
    ("ith", set()),  # inside a word, not a prefix
    ("xyz", set()),
    ("john smithers", set()),  # both words must match the same patient
    ("   ", {"maria", "john", "joan", "li", "mj"}),  # blank: no name filter
])
@pytest.mark.parametrize("common_above", [1_000, 0], ids=["rare-name plan", "common-name plan"])
def test_patient_name_matches_word_prefixes(db, world, typed, patients, common_above, monkeypatch):
    # A name matching more patients than COMMON_NAME_PATIENTS is searched another way; both
    # ways must find the same reports, for a page and for its count.
    monkeypatch.setattr(search, "COMMON_NAME_PATIENTS", common_above)
    expected = {spec.key for spec in SPEC.values() if spec.patient in patients}
    assert _keys(world, "support", ReportFilter(patient_name=typed)) == expected
    found = search.search(world.db, world.principal("acme_user"),
                                 ReportFilter(patient_name=typed))
    assert found.count == len(found.rows)


def _add_patient(world, first: str, last: str, employee_id: str) -> int:
    with world.db.transaction() as session:
        patient = Patient(first_name=first, last_name=last, date_of_birth=date(1988, 3, 3),
                          employee_id=employee_id, employer_account_id=world.account["acme"])
        session.add(patient)
        session.flush()
        return patient.id


def test_patient_name_is_case_insensitive_beyond_ascii(db, world):
    patient = _add_patient(world, "Élodie", "Muñoz", "E900")
    report_id = add_report(world.db, report_type="ccf", patient_id=patient,
                           provider_id=world.provider["p1a"],
                           posted_at=datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
                           recipients=(world.account["acme"],))
    key_ids = {row.id for row in search.search(
        world.db, world.principal("acme_user"), ReportFilter(patient_name="ÉLODIE MUÑ")).rows}
    assert key_ids == {report_id}
    key_ids = {row.id for row in search.search(
        world.db, world.principal("acme_user"), ReportFilter(patient_name="muñoz")).rows}
    assert key_ids == {report_id}


def test_patient_name_ignores_accents_on_both_databases(db, world):
    patient = _add_patient(world, "José", "Muñoz", "E901")
    report_id = add_report(world.db, report_type="ccf", patient_id=patient,
                           provider_id=world.provider["p1a"],
                           posted_at=datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
                           recipients=(world.account["acme"],))
    for typed in ("jose munoz", "munoz", "JOSE"):
        found = {row.id for row in search.search(
            world.db, world.principal("acme_user"), ReportFilter(patient_name=typed)).rows}
        assert found == {report_id}, typed


# --- new and opened, per user ----------------------------------------------------------------

def test_read_state_follows_each_users_own_openings(db, world):
    me, colleague = world.principal("acme_user"), world.principal("acme_user2")
    everything = {"acme_ccf", "acme_injury", "acme_recheck", "acme_first_notice"}
    assert _keys(world, "acme_user", ReportFilter(read="new")) == everything
    assert _keys(world, "acme_user", ReportFilter(read="opened")) == set()

    access.open_report(world.db, me, world.report["acme_injury"])
    access.open_report(world.db, me, world.report["acme_injury"])  # again: no change
    access.pdf_bytes(world.db, me, world.report["acme_ccf"], blob_store=world.store)

    assert _keys(world, "acme_user", ReportFilter(read="new")) == {"acme_recheck",
                                                                   "acme_first_notice"}
    assert _keys(world, "acme_user", ReportFilter(read="opened")) == {"acme_injury", "acme_ccf"}
    rows = search.search(world.db, me, ReportFilter()).rows
    assert {world.key_of(r.id): r.is_new for r in rows} == {
        "acme_ccf": False, "acme_injury": False, "acme_recheck": True, "acme_first_notice": True}
    # Another user of the same account still has them all as new.
    assert _keys(world, "acme_user2", ReportFilter(read="new")) == everything
    assert _keys(world, "acme_user2", ReportFilter(read="opened")) == set()
    assert all(r.is_new for r in search.search(world.db, colleague, ReportFilter()).rows)
    # And the payor who shares one of those reports too.
    assert _keys(world, "payco_user", ReportFilter(read="new")) == {"acme_injury", "acme_recheck"}
    # Read state combines with other filters.
    assert _keys(world, "acme_user", ReportFilter(read="new", report_types=("first_notice",))) == {
        "acme_first_notice"}


# --- rows and ordering -----------------------------------------------------------------------

def test_rows_show_the_report_and_newest_posting_comes_first(db, world):
    support = world.principal("support")
    rows = search.search(world.db, support, ReportFilter(), purpose=listing(support)).rows
    expected = sorted(SPEC.values(), key=lambda s: (s.posted_at, world.report[s.key]), reverse=True)
    assert [row.id for row in rows] == [world.report[s.key] for s in expected]
    row = next(r for r in rows if r.id == world.report["acme_injury"])
    assert (row.report_type, row.type_label) == (
        "injury_status", report_types.names(world.db)["injury_status"])
    assert (row.patient_name, row.employee_id) == ("Smith, John", "E200")
    assert (row.service_date, row.posted_at) == (date(2026, 10, 3), SPEC["acme_injury"].posted_at)
    assert (row.provider_name, row.state, row.injury, row.status) == (
        "Northside East", "OK", True, "available")


def test_identical_posting_times_are_ordered_by_id_newest_first(db, world):
    at = datetime(2026, 10, 30, 8, 0, tzinfo=UTC)
    made = [add_report(world.db, report_type="ccf", patient_id=world.patient["maria"],
                       provider_id=world.provider["p1a"], posted_at=at,
                       recipients=(world.account["acme"],), label=f"tie-{n}") for n in range(4)]
    rows = search.search(world.db, world.principal("acme_user"), ReportFilter()).rows
    assert [r.id for r in rows[:4]] == sorted(made, reverse=True)


# --- keyset pages ----------------------------------------------------------------------------

FIRST_DAY = date(2026, 10, 11)
DAYS = 6
PER_DAY = 20
# Many reports share a posting time; midnight and the last microsecond test the day bounds.
TIMES = (time(0, 0), time(8, 0), time(8, 0), time(8, 0), time(12, 30), time(23, 59, 59, 999999))


@pytest.fixture
def many(db, world, make_user):
    """120 reports routed to a fresh employer, inserted in random order (ids unrelated to time)."""
    slots = [datetime.combine(FIRST_DAY + timedelta(days=d), TIMES[n % len(TIMES)], tzinfo=UTC)
             for d in range(DAYS) for n in range(PER_DAY)]
    random.Random(20261102).shuffle(slots)
    types = sorted(kind.code for kind in report_types.active_types(db) if kind.for_employers)
    patients = sorted(world.patient.values())
    with db.transaction() as session:
        account = Account(name="Initech", kind="employer", created_at=slots[0])
        session.add(account)
        session.flush()
        reports = [Report(report_type=types[n % len(types)], patient_id=patients[n % len(patients)],
                          provider_id=world.provider["p1a"], service_date=at.date(), posted_at=at,
                          delivered_at=at, status="available", injury=bool(n % 2), state="TX",
                          file_sha256=f"{n:064x}", file_size=1000, page_count=1)
                   for n, at in enumerate(slots)]
        session.add_all(reports)
        session.flush()
        session.add_all(ReportRecipient(report_id=r.id, account_id=account.id, routed_at=r.posted_at)
                        for r in reports)
        expected = [(r.posted_at, r.id) for r in reports]
        injured = {r.id for r in reports if r.injury}
        account_id = account.id
    user_id = make_user("initech@x.test", accounts=((account_id, "account_user"),))
    return load_principal(db, user_id), sorted(expected, reverse=True), injured


def _all_pages(db, principal, report_filter: ReportFilter):
    pages, after = [], None
    while True:
        page = search.search(db, principal, report_filter, after=after)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        assert page.next_cursor.report_id == page.rows[-1].id
        assert page.next_cursor.posted_at == page.rows[-1].posted_at
        after = page.next_cursor
        assert len(pages) < 10, "pagination does not end"


def _check_pages(pages, expected, sizes):
    assert [len(page.rows) for page in pages] == sizes
    got = [(row.posted_at, row.id) for page in pages for row in page.rows]
    assert len(set(got)) == len(got), "a report appears twice"
    assert got == expected
    assert all(page.count == len(expected) and not page.count_capped for page in pages)
    assert pages[-1].next_cursor is None


def test_pages_of_fifty_cover_every_report_once_in_order(db, many):
    principal, expected, _ = many
    assert len(expected) == 120
    _check_pages(_all_pages(db, principal, ReportFilter()), expected, [50, 50, 20])


def _in_days(expected, first: date | None, last: date | None):
    return [(at, report_id) for at, report_id in expected
            if (first is None or at.date() >= first) and (last is None or at.date() <= last)]


@pytest.mark.parametrize("first, last, sizes", [
    (FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=4), [50, 30]),
    (None, FIRST_DAY + timedelta(days=2), [50, 10]),
    (FIRST_DAY + timedelta(days=3), None, [50, 10]),
    (FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=2), [20]),
    (FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=5), [50, 50]),
])
def test_pages_stay_inside_a_posting_range(db, many, first, last, sizes):
    principal, expected, _ = many
    wanted = _in_days(expected, first, last)
    assert len(wanted) == sum(sizes)
    pages = _all_pages(db, principal, ReportFilter(posted_from=first, posted_to=last))
    _check_pages(pages, wanted, sizes)
    # The day bounds hold on every page: midnight of the first day and the last microsecond
    # of the last day are inside, midnight after the last day is not.
    times = {row.posted_at.time() for page in pages for row in page.rows}
    assert {time(0, 0), time(23, 59, 59, 999999)} <= times


@pytest.mark.parametrize("injury", [True, False])
def test_pages_with_a_range_and_another_filter(db, many, injury):
    principal, expected, injured = many
    first, last = FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1)
    wanted = [(at, rid) for at, rid in _in_days(expected, first, last)
              if (rid in injured) == injury]
    assert len(wanted) == 60
    pages = _all_pages(db, principal, ReportFilter(posted_from=first, posted_to=last, injury=injury))
    _check_pages(pages, wanted, [50, len(wanted) - 50])
    assert all(row.injury == injury for page in pages for row in page.rows)


def test_a_page_with_exactly_fifty_reports_has_no_next_page(db, many):
    principal, _, _ = many
    pages = _all_pages(db, principal, ReportFilter(posted_from=FIRST_DAY + timedelta(days=1),
                                                   posted_to=FIRST_DAY + timedelta(days=5)))
    assert len(pages) == 2 and pages[1].next_cursor is None and len(pages[1].rows) == PAGE_SIZE


# --- count ------------------------------------------------------------------------------------

def test_count_is_exact_under_the_cap_and_capped_above_it(db, world, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    acme = world.principal("acme_user")

    def page() -> ReportPage:
        return search.search(world.db, acme, ReportFilter())

    assert (page().count, page().count_capped, page().count_label) == (4, False, "4")
    add_report(world.db, report_type="atf", patient_id=world.patient["maria"],
               provider_id=world.provider["p1a"], posted_at=datetime(2026, 10, 20, tzinfo=UTC),
               recipients=(world.account["acme"],), label="fifth")
    assert (page().count, page().count_capped, page().count_label) == (5, False, "5")
    add_report(world.db, report_type="atf", patient_id=world.patient["maria"],
               provider_id=world.provider["p1a"], posted_at=datetime(2026, 10, 21, tzinfo=UTC),
               recipients=(world.account["acme"],), label="sixth")
    result = page()
    assert (result.count, result.count_capped, result.count_label) == (5, True, "5+")
    assert len(result.rows) == 6  # the cap limits the count, not the rows
    # Filters apply to the count too.
    narrowed = search.search(world.db, acme, ReportFilter(report_types=("atf",)))
    assert (narrowed.count, narrowed.count_capped) == (2, False)
    assert search.search(world.db, acme, ReportFilter(), with_count=False).count == 0


def test_count_label_formats_thousands(db):
    assert ReportPage(rows=[], next_cursor=None, count=1234).count_label == "1,234"
    assert ReportPage(rows=[], next_cursor=None, count=10_000, count_capped=True).count_label \
        == "10,000+"


# --- filter choices ---------------------------------------------------------------------------

# The two employer letters: payors and TPAs do not receive them by default.
EMPLOYER_LETTERS = {"recheck_reminder", "first_notice"}
EVERY = "every type"


def _offered(db, types) -> dict[str, str]:
    """The type choices expected: every type of the list, or those but the employer letters."""
    names = report_types.names(db)
    if types == EVERY:
        return names
    return {code: name for code, name in names.items() if code not in EMPLOYER_LETTERS} if types else {}


@pytest.mark.parametrize("user_key, accounts, types", [
    ("acme_user", {"acme": "Acme Freight (employer)"}, EVERY),
    ("globex_user", {"globex": "Globex Logistics (employer)"}, EVERY),
    ("payco_user", {"payco": "Payco Mutual (payor)"}, "payor"),
    ("tpa_user", {"claimsco": "Claims Partners (TPA)"}, "payor"),
    ("acme_and_payco", {"acme": "Acme Freight (employer)", "payco": "Payco Mutual (payor)"},
     EVERY),
])
def test_client_users_get_only_their_accounts_and_the_types_they_receive(db, world, user_key,
                                                                        accounts, types):
    choices = search.filter_choices(world.db, world.principal(user_key))
    assert choices.accounts == {world.account[k]: label for k, label in accounts.items()}
    assert choices.report_types == _offered(db, types)
    # Clients may narrow by any clinic (the scope still decides the rows, see below).
    assert choices.providers == {pid: name for pid, name in zip(
        [world.provider["p1b"], world.provider["p1a"], world.provider["p2a"]],
        ["Northside East", "Northside Main", "Southside Main"], strict=True)}
    assert choices.states == ["CA", "OK", "TX"] and choices.statuses == ()


@pytest.mark.parametrize("user_key, types", [
    ("acme_user", EVERY),
    ("payco_user", "payor"),
    ("tpa_user", "payor"),
    # Several kinds of account: every type any of them receives.
    ("acme_and_payco", EVERY),
    # Provider users and staff search every type.
    ("staff_p1a", EVERY),
    ("gadmin_north", EVERY),
    ("support", EVERY),
    # No reports at all, so no type to search for.
    ("manager", None),
])
def test_the_type_choices_are_the_types_the_users_accounts_receive(db, world, user_key, types):
    principal = world.principal(user_key)
    with db.transaction(write=False) as session:
        assert search.type_choices(session, principal) == _offered(db, types)
    if types:
        assert search.filter_choices(world.db, principal).report_types == _offered(db, types)


def test_a_payor_is_not_offered_the_types_it_does_not_receive(db, world):
    """The employer letters are not in a payor's or a TPA's set, so the filter does not offer
    them (one routed to them while their set held it is still listed unfiltered)."""
    for user_key in ("payco_user", "tpa_user"):
        with db.transaction(write=False) as session:
            offered = search.type_choices(session, world.principal(user_key))
        assert not EMPLOYER_LETTERS & set(offered)


def test_a_client_filtering_by_any_clinic_still_sees_only_their_own_reports(db, world):
    assert _keys(world, "acme_user", ReportFilter(provider_id=world.provider["p1a"])) == {
        "acme_ccf", "acme_recheck"}
    assert _keys(world, "acme_user", ReportFilter(provider_id=world.provider["p2a"])) == set()
    assert _keys(world, "tpa_user", ReportFilter(provider_id=world.provider["p1b"])) == {
        "acme_first_notice"}
    assert _keys(world, "tpa_user", ReportFilter(provider_id=world.provider["p2a"])) == set()
    assert _keys(world, "acme_user", ReportFilter(state="CA")) == set()


def test_provider_users_get_only_their_providers(db, world):
    staff = search.filter_choices(world.db, world.principal("staff_p1a"))
    assert staff.providers == {world.provider["p1a"]: "Northside Main"}
    assert staff.states == ["TX"] and staff.accounts == {} and staff.statuses == ()
    group = search.filter_choices(world.db, world.principal("gadmin_north"))
    assert group.providers == {world.provider["p1a"]: "Northside Main",
                               world.provider["p1b"]: "Northside East"}
    assert group.states == ["OK", "TX"]


def test_staff_get_every_choice(db, world):
    choices = search.filter_choices(world.db, world.principal("support"))
    assert set(choices.accounts) == set(world.account.values())
    assert set(choices.providers) == set(world.provider.values())
    assert choices.states == ["CA", "OK", "TX"]
    assert choices.statuses == REPORT_STATUSES
    assert choices.report_types == report_types.names(db)
