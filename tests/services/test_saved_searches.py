"""Saved searches: a person keeps Reports filters under a name, sees how many reports are new
since they last looked, opens one (which counts as looking), renames and deletes it, and may
have its count in the new-result email. Only their own, only within the scope they have now.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from db.engine import Database
from db.models import Account, AccountMembership, OutboxMessage, Patient, Provider, ProviderGroup
from services import clock
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.principals import Principal
from services.reports import report_types, saved_searches
from services.reports.notices import send, set_result_notices
from services.reports.search import ReportFilter
from tests.conftest import START
from tests.services.report_world import add_report, events, load_principal, npi_number

DRUG_TESTS = ReportFilter(report_types=("ccf",))


@dataclass
class Town:
    db: Database
    account: dict[str, int]
    provider: int
    patient: int
    user: dict[str, int]

    def who(self, key: str) -> Principal:
        return load_principal(self.db, self.user[key])

    def report(self, *, report_type: str = "ccf", account: str = "acme") -> int:
        """A report delivered now (the fake clock), routed to one account."""
        return add_report(self.db, report_type=report_type, patient_id=self.patient,
                          provider_id=self.provider, posted_at=clock.now(),
                          recipients=(self.account[account],), service_date=date(2026, 10, 30),
                          label=f"{report_type}-{account}-{clock.now().isoformat()}-{_serial()}")

    def entries(self, key: str) -> dict[str, saved_searches.SavedSearchEntry]:
        return {entry.name: entry for entry in saved_searches.listing(self.db, self.who(key))}


_counter = iter(range(1, 100_000))


def _serial() -> int:
    return next(_counter)


@pytest.fixture
def town(db, fake_clock, make_user, monkeypatch) -> Town:
    monkeypatch.setenv("RESULTSDESK_PORTAL_URL", "https://results.example.test/")
    with db.transaction() as session:
        accounts = {"acme": Account(name="Acme Freight", kind="employer", created_at=START),
                    "globex": Account(name="Globex Logistics", kind="employer", created_at=START)}
        group = ProviderGroup(name="Northside Clinics", npi=npi_number(1), created_at=START)
        session.add_all([*accounts.values(), group])
        session.flush()
        provider = Provider(group_id=group.id, name="Northside Main", npi=npi_number(11), state="TX")
        patient = Patient(first_name="Zebulon", last_name="Quixote", date_of_birth=date(1980, 4, 1),
                          employee_id="EMP-98765", employer_account_id=accounts["acme"].id)
        session.add_all([provider, patient])
        session.flush()
        account_ids = {k: v.id for k, v in accounts.items()}
        provider_id, patient_id = provider.id, patient.id
    users = {
        "casey": make_user("casey@x.test", name="Casey Client",
                           accounts=((account_ids["acme"], "account_user"),
                                     (account_ids["globex"], "account_user"))),
        "dana": make_user("dana@x.test", name="Dana Client",
                          accounts=((account_ids["acme"], "account_user"),)),
        "manny": make_user("manny@x.test", name="Manny Manager", staff=("manager",)),
        "sam": make_user("sam@x.test", name="Sam Admin", staff=("system_admin",)),
    }
    return Town(db=db, account=account_ids, provider=provider_id, patient=patient_id, user=users)


def test_save_list_open_rename_and_delete(town, fake_clock):
    casey = town.who("casey")
    town.report()  # before the search was saved: not new to it
    fake_clock.advance(minutes=5)
    saved_id = saved_searches.save(town.db, casey, name="  Night shift ", report_filter=DRUG_TESTS)

    entry, = saved_searches.listing(town.db, casey)
    assert (entry.id, entry.name, entry.in_email, entry.new_label, entry.not_applying) == (
        saved_id, "Night shift", False, "0", "")

    fake_clock.advance(minutes=5)
    town.report()
    town.report()
    town.report(report_type="atf")  # not a drug test
    town.report(account="globex")  # Casey's other account: in her scope, so it counts
    assert town.entries("casey")["Night shift"].new_label == "3"

    opened = saved_searches.open(town.db, casey, saved_search_id=saved_id)
    assert (opened.id, opened.name, opened.report_filter, opened.posted_preset) == (
        saved_id, "Night shift", DRUG_TESTS, None)
    assert town.entries("casey")["Night shift"].new_label == "0"  # looked at now

    fake_clock.advance(minutes=5)
    town.report()
    assert town.entries("casey")["Night shift"].new_label == "1"

    saved_searches.rename(town.db, casey, saved_search_id=saved_id, name="Drug tests")
    assert list(town.entries("casey")) == ["Drug tests"]
    assert town.entries("casey")["Drug tests"].new_label == "1"  # renaming is not looking

    saved_searches.delete(town.db, casey, saved_search_id=saved_id)
    assert saved_searches.listing(town.db, casey) == []

    # The trail names the saved search by id only: its name is the person's text, which may
    # name a patient.
    trail = [(e.action, e.target_type, e.target_id, e.actor_user_id) for e in events(town.db)
             if e.action.startswith("saved_search.")]
    assert trail == [(action, "saved_search", str(saved_id), casey.user_id) for action in
                     ("saved_search.saved", "saved_search.renamed", "saved_search.deleted")]
    for event in events(town.db):
        assert "Night" not in str(event.details) and "Drug tests" not in str(event.details)


def test_a_listing_is_in_name_order_and_only_the_persons_own(town):
    casey, dana = town.who("casey"), town.who("dana")
    saved_searches.save(town.db, casey, name="zeta", report_filter=ReportFilter())
    saved_searches.save(town.db, casey, name="Alpha", report_filter=DRUG_TESTS)
    saved_searches.save(town.db, dana, name="Dana's", report_filter=ReportFilter())
    assert [e.name for e in saved_searches.listing(town.db, casey)] == ["Alpha", "zeta"]
    assert [e.name for e in saved_searches.listing(town.db, dana)] == ["Dana's"]


@pytest.mark.parametrize("typed, message", [
    ("", "Give the search a name."),
    ("   ", "Give the search a name."),
    ("x" * 81, "at most 80 characters"),
    ("bell\x07", "one line of plain text"),
])
def test_names_that_are_refused_say_why(town, typed, message):
    with pytest.raises(InvalidInput, match=message):
        saved_searches.save(town.db, town.who("casey"), name=typed, report_filter=DRUG_TESTS)
    assert saved_searches.listing(town.db, town.who("casey")) == []


def test_a_name_is_trimmed_unique_per_person_in_any_case_and_at_most_80_characters(town):
    casey, dana = town.who("casey"), town.who("dana")
    longest = "y" * 80
    saved_searches.save(town.db, casey, name=longest, report_filter=DRUG_TESTS)
    first = saved_searches.save(town.db, casey, name=" Drug \n tests ", report_filter=DRUG_TESTS)
    assert set(town.entries("casey")) == {longest, "Drug tests"}
    with pytest.raises(InvalidInput, match="already have a saved search with that name"):
        saved_searches.save(town.db, casey, name="drug tests", report_filter=ReportFilter())
    # Another person may use the same name.
    saved_searches.save(town.db, dana, name="Drug tests", report_filter=DRUG_TESTS)
    other = saved_searches.save(town.db, casey, name="Alcohol", report_filter=ReportFilter())
    with pytest.raises(InvalidInput, match="already have a saved search with that name"):
        saved_searches.rename(town.db, casey, saved_search_id=other, name="DRUG TESTS")
    with pytest.raises(InvalidInput, match="at most 80"):
        saved_searches.rename(town.db, casey, saved_search_id=other, name="z" * 81)
    # Renaming to its own name in other letters is allowed.
    saved_searches.rename(town.db, casey, saved_search_id=first, name="DRUG tests")
    assert set(town.entries("casey")) == {longest, "DRUG tests", "Alcohol"}


def test_at_most_twenty_saved_searches_each(town):
    casey = town.who("casey")
    for number in range(saved_searches.MAX_PER_PERSON):
        saved_searches.save(town.db, casey, name=f"Search {number}", report_filter=ReportFilter())
    with pytest.raises(InvalidInput, match="at most 20 saved searches: delete one"):
        saved_searches.save(town.db, casey, name="One more", report_filter=ReportFilter())
    assert len(saved_searches.listing(town.db, casey)) == 20
    saved_searches.save(town.db, town.who("dana"), name="One more", report_filter=ReportFilter())


def test_someone_elses_saved_search_is_refused_exactly_like_a_missing_one(town):
    casey, dana = town.who("casey"), town.who("dana")
    caseys = saved_searches.save(town.db, casey, name="Night shift", report_filter=DRUG_TESTS)
    attempts = {
        "open": lambda sid: saved_searches.open(town.db, dana, saved_search_id=sid),
        "rename": lambda sid: saved_searches.rename(town.db, dana, saved_search_id=sid, name="Mine"),
        "delete": lambda sid: saved_searches.delete(town.db, dana, saved_search_id=sid),
        "email": lambda sid: saved_searches.set_in_email(town.db, dana, saved_search_id=sid,
                                                         included=True),
    }
    for what, attempt in attempts.items():
        with pytest.raises(NotFound) as theirs:
            attempt(caseys)
        with pytest.raises(NotFound) as missing:
            attempt(caseys + 1000)
        assert str(theirs.value) == str(missing.value) == "That saved search no longer exists.", what
    entry, = saved_searches.listing(town.db, casey)
    assert (entry.name, entry.in_email) == ("Night shift", False)
    assert not [e for e in events(town.db) if e.action.startswith("saved_search.")
                and e.actor_user_id == dana.user_id]


def test_without_the_reports_action_nothing_is_saved_or_listed(town):
    manny = town.who("manny")
    with pytest.raises(PermissionDenied):
        saved_searches.save(town.db, manny, name="Mine", report_filter=ReportFilter())
    with pytest.raises(PermissionDenied):
        saved_searches.listing(town.db, manny)
    assert [e.details["action"] for e in events(town.db, "permission.denied")] == [
        "view_reports", "view_reports"]


def test_new_since_last_looked_counts_deliveries_after_the_last_look_and_stops_at_the_cap(
        town, fake_clock, monkeypatch):
    monkeypatch.setattr(saved_searches, "NEW_CAP", 2)
    dana = town.who("dana")
    saved_id = saved_searches.save(town.db, dana, name="Everything", report_filter=ReportFilter())
    fake_clock.advance(minutes=1)
    town.report(account="globex")  # not Dana's account
    add_report(town.db, report_type="ccf", patient_id=town.patient, provider_id=town.provider,
               posted_at=START - timedelta(days=3), delivered_at=clock.now(),
               recipients=(town.account["acme"],), label="posted earlier, delivered now")
    assert town.entries("dana")["Everything"].new_label == "1"  # delivered, not posted, counts
    town.report()
    entry = town.entries("dana")["Everything"]
    assert (entry.new_count, entry.new_capped, entry.new_label) == (2, False, "2")
    town.report()
    entry = town.entries("dana")["Everything"]
    assert (entry.new_count, entry.new_capped, entry.new_label) == (2, True, "2+")
    saved_searches.open(town.db, dana, saved_search_id=saved_id)
    assert town.entries("dana")["Everything"].new_label == "0"


def test_losing_an_account_never_widens_what_a_saved_search_finds(town, fake_clock):
    casey = town.who("casey")
    at_globex = saved_searches.save(town.db, casey, name="Globex only",
                                    report_filter=ReportFilter(account_id=town.account["globex"]))
    saved_searches.save(town.db, casey, name="Everything", report_filter=ReportFilter())
    saved_searches.set_in_email(town.db, casey, saved_search_id=at_globex, included=True)
    fake_clock.advance(minutes=1)
    town.report(account="globex")
    town.report(account="acme")
    assert {n: e.new_label for n, e in town.entries("casey").items()} == {
        "Globex only": "1", "Everything": "2"}

    with town.db.transaction() as session:
        session.execute(sql_delete(AccountMembership).where(
            AccountMembership.user_id == casey.user_id,
            AccountMembership.account_id == town.account["globex"]))
    casey = town.who("casey")
    entries = town.entries("casey")
    assert entries["Globex only"].not_applying == (
        "It names a client account you no longer have access to.")
    assert entries["Globex only"].new_label == "0"
    assert entries["Everything"].new_label == "1"  # Acme's only now
    with pytest.raises(InvalidInput, match="no longer have access"):
        saved_searches.open(town.db, casey, saved_search_id=at_globex)
    # Not counted as a refused attempt: the search says why instead.
    assert events(town.db, "permission.denied") == []
    with town.db.transaction(write=False) as session:
        assert saved_searches.email_lines(session, casey, since=START,
                                          until=clock.now() + timedelta(days=1)) == []
    # It can still be deleted.
    saved_searches.delete(town.db, casey, saved_search_id=at_globex)
    assert list(town.entries("casey")) == ["Everything"]


def test_a_retired_report_type_still_finds_only_what_the_person_may_see(town, fake_clock):
    dana = town.who("dana")
    saved_searches.save(town.db, dana, name="Drug tests", report_filter=DRUG_TESTS)
    report_types.retire_type(town.db, town.who("sam"), code="ccf")
    fake_clock.advance(minutes=1)
    town.report()  # posted before the retirement took effect somewhere: still routed to Acme
    town.report(account="globex")
    entry = town.entries("dana")["Drug tests"]
    assert (entry.not_applying, entry.new_label) == ("", "1")
    assert saved_searches.open(town.db, dana, saved_search_id=entry.id).report_filter == DRUG_TESTS


def test_a_relative_posting_preset_stays_relative_and_typed_dates_stay_fixed(town, fake_clock):
    casey = town.who("casey")
    today = clock.now().date()
    last_week = ReportFilter(posted_from=today - timedelta(days=6), posted_to=today)
    rolling = saved_searches.save(town.db, casey, name="This week", report_filter=last_week,
                                  posted_preset="Last 7 days")
    fixed = saved_searches.save(town.db, casey, name="Those days", report_filter=last_week,
                                posted_preset="Custom range")
    fake_clock.advance(days=10)
    later = clock.now().date()
    opened = saved_searches.open(town.db, casey, saved_search_id=rolling)
    assert opened.posted_preset == "Last 7 days"
    assert (opened.report_filter.posted_from, opened.report_filter.posted_to) == (
        later - timedelta(days=6), later)
    opened = saved_searches.open(town.db, casey, saved_search_id=fixed)
    assert opened.posted_preset is None
    assert opened.report_filter == last_week


def test_the_new_result_email_gives_a_count_per_saved_search_put_in_it(town, fake_clock):
    casey = town.who("casey")
    set_result_notices(town.db, casey, enabled=True)
    night = saved_searches.save(town.db, casey, name="Night shift", report_filter=DRUG_TESTS)
    saved_searches.save(town.db, casey, name="Alcohol", report_filter=ReportFilter(
        report_types=("atf",)))  # not in the email
    quiet = saved_searches.save(town.db, casey, name="Quiet", report_filter=ReportFilter(
        report_types=("transcription",)))
    single = saved_searches.save(town.db, casey, name="Globex", report_filter=ReportFilter(
        account_id=town.account["globex"]))
    for saved_id in (night, quiet, single):
        saved_searches.set_in_email(town.db, casey, saved_search_id=saved_id, included=True)
    assert [e.details for e in events(town.db, "saved_search.email_changed")] == [
        {"in_email": True}] * 3
    fake_clock.advance(minutes=5)
    for _ in range(3):
        town.report()
    town.report(report_type="atf")
    town.report(account="globex")
    fake_clock.advance(minutes=5)

    send(town.db)

    with town.db.transaction(write=False) as session:
        message, = session.scalars(select(OutboxMessage))
    body = message.body
    assert "5 new reports are waiting" in body
    assert "Saved search “Night shift”: 4 new results" in body  # three at Acme, one at Globex
    assert "Saved search “Globex”: 1 new result\n" in body
    assert "Alcohol" not in body and "Quiet" not in body
    for private in ("Zebulon", "Quixote", "EMP-98765", "Custody", "ccf", "Acme"):
        assert private not in body

    # The next email counts from this one: a saved search with nothing new has no line.
    saved_searches.set_in_email(town.db, casey, saved_search_id=night, included=False)
    fake_clock.advance(minutes=5)
    town.report(account="globex")
    fake_clock.advance(minutes=5)
    send(town.db)
    with town.db.transaction(write=False) as session:
        _, second = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    assert "Saved search “Globex”: 1 new result\n" in second.body
    assert "Night shift" not in second.body


def test_two_tabs_saving_at_once_never_pass_the_limit_or_share_a_name(town):
    """Two saves at the same moment: the twentieth place, then one name in two cases."""
    from concurrent.futures import ThreadPoolExecutor

    casey = town.who("casey")
    for number in range(saved_searches.MAX_PER_PERSON - 1):
        saved_searches.save(town.db, casey, name=f"Search {number}", report_filter=ReportFilter())

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda name: _save_or_refusal(town, casey, name),
                                ["Left tab", "Right tab"]))
    assert sorted(type(r).__name__ for r in results) == ["InvalidInput", "int"]
    assert len(saved_searches.listing(town.db, casey)) == saved_searches.MAX_PER_PERSON

    dana = town.who("dana")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda name: _save_or_refusal(town, dana, name),
                                ["Night shift", "NIGHT SHIFT"]))
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(refused) == 1 and "already have a saved search with that name" in str(refused[0])
    assert len(saved_searches.listing(town.db, dana)) == 1


def _save_or_refusal(town: Town, principal: Principal, name: str):
    try:
        return saved_searches.save(town.db, principal, name=name, report_filter=DRUG_TESTS)
    except InvalidInput as refused:
        return refused
