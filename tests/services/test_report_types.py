"""Report types as data and per account: what a system admin and an account representative
change, and what clinics, client users and the Dashboard then meet.

Routing follows each account's own set at the moment a report is posted; a report already
routed stays where it went, whatever changes afterwards.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select, update

from db.models import Account, AccountReportType, AuditEvent, Report, ReportType
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.insight import dashboard
from services.reports import access, report_types, routing, search
from services.reports.ingest import ingest, upload_choices
from services.reports.search import ReportFilter
from tests.conftest import START
from tests.services.report_world import events
from tests.services.test_report_ingest import build_desk, recipients_of, upload

TEXAS = "Texas DWC-73 work status report"
FIRST_TEN = ["atf", "ccf", "injury_status", "referral", "no_show", "transcription",
             "transcription_summary", "recheck_reminder", "first_notice", "state_wc_form"]


@pytest.fixture
def desk(db, fake_clock, make_user, tmp_path):
    from db.blob_store import BlobStore

    desk = build_desk(db, make_user, BlobStore(tmp_path / "blobs"))
    desk.user["rep"] = make_user("rep@x.test", staff=("account_rep",))
    desk.user["support"] = make_user("support@x.test", staff=("support_rep",))
    desk.user["payor_user"] = make_user("payor@x.test", accounts=((desk.account["payco"], "account_user"),))
    desk.user["tpa_user"] = make_user("tpa@x.test", accounts=((desk.account["claimsco"], "account_user"),))
    return desk


def _post(desk, label: str, *, as_user: str = "admin_p1", **fields):
    outcome, = ingest(desk.db, desk.principal(as_user), [upload(desk, label, **fields)],
                      blob_store=desk.store)
    return outcome


def _claim(**fields) -> dict:
    """A report of a claim paid by Payco (so it may go to the employer and the payor)."""
    return {"injury": "yes", "claim_number": "CLM-1", "claim_payer": "Payco Mutual", **fields}


def _add_texas(desk, kinds=frozenset({"employer", "payor"})):
    return report_types.add_type(desk.db, desk.principal("sysadmin"), name=TEXAS, code="tx_dwc73",
                                 injury=True, kinds=kinds)


def _exception_rows(db, account_id: int) -> dict[str, bool]:
    with db.transaction(write=False) as session:
        return dict(session.execute(select(AccountReportType.report_type, AccountReportType.receives)
                                    .where(AccountReportType.account_id == account_id)).all())


def _type_count(db) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(ReportType))


# --- the list -------------------------------------------------------------------------------

def test_the_list_holds_the_ten_types_reports_were_posted_with(db):
    listed = report_types.all_types(db)
    assert [t.code for t in listed] == FIRST_TEN
    assert all(not t.retired for t in listed)
    by_code = {t.code: t for t in listed}
    # Payors and TPAs do not receive the two employer letters by default; employers get all.
    assert by_code["recheck_reminder"].kinds == by_code["first_notice"].kinds == {"employer"}
    assert by_code["ccf"].kinds == {"employer", "payor", "tpa"}
    assert report_types.names(db)["ccf"] == "Custody and control form (CCF)"


def test_an_admin_adds_a_type_which_is_listed_at_once_and_audited(desk):
    added = _add_texas(desk)
    assert (added.code, added.name, added.injury, added.kinds) == (
        "tx_dwc73", TEXAS, True, frozenset({"employer", "payor"}))
    # Read from the table each time: the next call anywhere sees it, at the end of the list.
    assert report_types.all_types(desk.db)[-1] == added
    assert report_types.names(desk.db)["tx_dwc73"] == TEXAS
    assert upload_choices(desk.db, desk.principal("admin_p1")).report_types["tx_dwc73"] == TEXAS
    event, = events(desk.db, "report_type.added")
    assert (event.actor_user_id, event.target_type, event.target_id) == (
        desk.user["sysadmin"], "report_type", "tx_dwc73")
    assert event.details == {"name": TEXAS, "injury": True, "received_by": ["employer", "payor"]}


@pytest.mark.parametrize("code, name, kinds, message", [
    ("TX_DWC73", TEXAS, {"employer"}, "lower-case letters"),
    ("t", TEXAS, {"employer"}, "2 to 32"),
    ("x" * 33, TEXAS, {"employer"}, "2 to 32"),
    ("tx dwc", TEXAS, {"employer"}, "lower-case letters"),
    ("tx-dwc", TEXAS, {"employer"}, "lower-case letters"),
    ("ccf", TEXAS, {"employer"}, "already used by Custody and control form (CCF)"),
    ("tx_dwc73", "  ", {"employer"}, "Give the report type a name"),
    ("tx_dwc73", "x" * 121, {"employer"}, "longer than 120"),
    ("tx_dwc73", "patient referral", {"employer"}, "already called Patient referral"),
    ("tx_dwc73", "ATF", {"employer"}, "short code of another report type"),
    ("tx_dwc73", "Bell\x07ring", {"employer"}, "printable"),
    ("tx_dwc73", TEXAS, {"employer", "hospital"}, "Unknown kind of account"),
])
def test_a_bad_type_is_refused_with_the_reason_and_nothing_is_added(desk, code, name, kinds, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        report_types.add_type(desk.db, desk.principal("sysadmin"), name=name, code=code,
                              injury=False, kinds=frozenset(kinds))
    assert _type_count(desk.db) == 10
    assert events(desk.db, "report_type.added") == []


def test_names_are_trimmed_and_a_short_code_may_be_reused_by_nobody(desk):
    added = report_types.add_type(desk.db, desk.principal("sysadmin"), name=f"  {TEXAS}  ",
                                  code=" tx_dwc73 ", injury=True, kinds=frozenset({"employer"}))
    assert (added.code, added.name) == ("tx_dwc73", TEXAS)
    with pytest.raises(InvalidInput, match="already used by"):
        report_types.add_type(desk.db, desk.principal("sysadmin"), name="Another",
                              code="tx_dwc73", injury=False, kinds=frozenset())


@pytest.mark.parametrize("user_key", ["rep", "support", "admin_p1", "client"])
def test_only_a_system_admin_changes_the_list(desk, user_key):
    principal = desk.principal(user_key)
    for change in (lambda: _add_texas_as(desk, principal),
                   lambda: report_types.rename_type(desk.db, principal, code="ccf", name="CCF"),
                   lambda: report_types.retire_type(desk.db, principal, code="ccf"),
                   lambda: report_types.listing(desk.db, principal)):
        with pytest.raises(PermissionDenied):
            change()
    assert _type_count(desk.db) == 10
    assert report_types.names(desk.db)["ccf"] == "Custody and control form (CCF)"
    assert not any(t.retired for t in report_types.all_types(desk.db))
    denied = events(desk.db, "permission.denied")
    assert [e.details["action"] for e in denied] == ["manage_report_types"] * 4
    assert {e.actor_user_id for e in denied} == {desk.user[user_key]}


def _add_texas_as(desk, principal):
    return report_types.add_type(desk.db, principal, name=TEXAS, code="tx_dwc73", injury=True,
                                 kinds=frozenset({"employer"}))


def test_a_rename_shows_on_reports_already_posted_and_is_audited(desk):
    posted = _post(desk, "ccf-1")
    report_types.rename_type(desk.db, desk.principal("sysadmin"), code="ccf",
                             name="Drug test custody and control form")
    detail = access.open_report(desk.db, desk.principal("client"), posted.report_id)
    assert detail.type_label == "Drug test custody and control form"
    event, = events(desk.db, "report_type.renamed")
    assert event.details == {"name_before": "Custody and control form (CCF)",
                             "name_after": "Drug test custody and control form"}
    # Renaming to another type's name is refused; renaming a type that does not exist too.
    with pytest.raises(InvalidInput, match="already called Patient referral"):
        report_types.rename_type(desk.db, desk.principal("sysadmin"), code="ccf", name="Patient Referral")
    with pytest.raises(NotFound):
        report_types.rename_type(desk.db, desk.principal("sysadmin"), code="nope", name="Nope")
    # Its own name in another case is no clash.
    report_types.rename_type(desk.db, desk.principal("sysadmin"), code="ccf",
                             name="DRUG TEST custody and control form")
    assert report_types.names(desk.db)["ccf"] == "DRUG TEST custody and control form"


def test_a_retired_type_takes_no_uploads_and_its_reports_stay(desk):
    before = _post(desk, "atf-before", report_type="atf")
    retired = report_types.retire_type(desk.db, desk.principal("sysadmin"), code="atf")
    assert retired.retired and retired.retired_at == START
    assert "atf" not in {t.code for t in report_types.active_types(desk.db)}
    assert "atf" not in upload_choices(desk.db, desk.principal("admin_p1")).report_types
    refused = _post(desk, "atf-after", report_type="atf")
    assert (refused.result, refused.reason) == (
        "rejected", "Alcohol testing form (ATF) is retired: it takes no new uploads.")
    refused_by_name = _post(desk, "atf-named", report_type="alcohol testing form (atf)")
    assert refused_by_name.result == "rejected"
    # The report posted before stays in its employer's view, and the type is still a filter.
    client = desk.principal("client")
    found = search.search(desk.db, client, ReportFilter(report_types=("atf",))).rows
    assert [row.id for row in found] == [before.report_id]
    assert search.filter_choices(desk.db, client).report_types["atf"] == \
        "Alcohol testing form (ATF) (retired)"
    with pytest.raises(InvalidInput, match="already retired"):
        report_types.retire_type(desk.db, desk.principal("sysadmin"), code="atf")
    # Taken back into use, it is posted again.
    report_types.restore_type(desk.db, desk.principal("sysadmin"), code="atf")
    assert _post(desk, "atf-again", report_type="atf").result == "posted"
    assert [e.action for e in _type_events(desk.db)] == ["report_type.retired", "report_type.restored"]
    # Nothing is ever deleted.
    assert _type_count(desk.db) == 10


def _type_events(db) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.target_type == "report_type")
                                    .order_by(AuditEvent.id)))


# --- a new type end to end ------------------------------------------------------------------

def test_a_new_type_is_posted_routed_found_and_counted_without_a_restart(desk):
    _add_texas(desk)
    # Given by its name, in any case, like every type.
    posted = _post(desk, "texas-1", **_claim(report_type=TEXAS.upper()))
    assert posted.result == "posted"
    with desk.db.transaction(write=False) as session:
        assert session.get(Report, posted.report_id).report_type == "tx_dwc73"
    # Received by employers and payors by default: the employer and the claim's payor.
    assert recipients_of(desk.db, posted.report_id) == {desk.account["acme"], desk.account["payco"]}
    # Not by TPAs: a claim paid by the TPA reaches only the employer.
    to_tpa = _post(desk, "texas-2", **_claim(report_type="tx_dwc73", claim_payer="Claims Partners",
                                             claim_number="CLM-2"))
    assert recipients_of(desk.db, to_tpa.report_id) == {desk.account["acme"]}
    # The employer finds it by that type; the payor is offered it; the TPA is not.
    client = desk.principal("client")
    assert search.filter_choices(desk.db, client).report_types["tx_dwc73"] == TEXAS
    found = search.search(desk.db, client, ReportFilter(report_types=("tx_dwc73",))).rows
    assert {row.id for row in found} == {posted.report_id, to_tpa.report_id}
    assert {row.type_label for row in found} == {TEXAS}
    assert "tx_dwc73" in search.filter_choices(desk.db, desk.principal("payor_user")).report_types
    assert "tx_dwc73" not in search.filter_choices(desk.db, desk.principal("tpa_user")).report_types
    # The Dashboard offers it, names it, and counts it.
    manager = desk.principal("sysadmin")
    assert dashboard.choices(desk.db, manager).report_types["tx_dwc73"] == TEXAS
    chosen = dashboard.DashboardFilter(start=date(2026, 11, 1), end=date(2026, 11, 30),
                                       report_types=("tx_dwc73",))
    shown = dashboard.overview(desk.db, manager, chosen, grain="month", split="report_type")
    assert set(shown.volume["segment"]) == {TEXAS}
    assert int(shown.volume["reports"].sum()) == 2
    assert report_types.listing(desk.db, manager)[-1].reports == 2


def test_the_dashboard_refuses_a_type_not_on_the_list(desk):
    chosen = dashboard.DashboardFilter(start=date(2026, 11, 1), end=date(2026, 11, 30),
                                       report_types=("nope",))
    with pytest.raises(InvalidInput, match="Unknown report type"):
        dashboard.overview(desk.db, desk.principal("sysadmin"), chosen)


# --- one account's set ---------------------------------------------------------------------

def test_an_account_starts_with_its_kinds_standard_set(desk):
    payor = report_types.account_set(desk.db, desk.principal("rep"), account_id=desk.account["payco"])
    assert payor.kind == "payor" and payor.account_name == "Payco Mutual"
    assert payor.standard == payor.receives == set(FIRST_TEN) - {"recheck_reminder", "first_notice"}
    assert payor.added == payor.removed == frozenset()
    employer = report_types.account_set(desk.db, desk.principal("rep"), account_id=desk.account["acme"])
    assert employer.receives == set(FIRST_TEN)


def test_routing_follows_the_accounts_own_set_at_posting(desk):
    rep = desk.principal("rep")
    payco, acme = desk.account["payco"], desk.account["acme"]
    # Before: the recheck reminder goes to the employer only, a CCF of a claim to both.
    recheck_before = _post(desk, "recheck-before", **_claim(report_type="recheck_reminder"))
    assert recipients_of(desk.db, recheck_before.report_id) == {acme}
    ccf_before = _post(desk, "ccf-before", **_claim(report_type="ccf"))
    assert recipients_of(desk.db, ccf_before.report_id) == {acme, payco}

    # The payor is given a non-standard type; the employer loses a standard one.
    standard = report_types.account_set(desk.db, rep, account_id=payco).standard
    changed = report_types.set_account_types(desk.db, rep, account_id=payco,
                                             receives=standard | {"recheck_reminder"})
    assert changed.added == {"recheck_reminder"} and changed.removed == frozenset()
    employer = report_types.set_account_types(desk.db, rep, account_id=acme,
                                              receives=frozenset(FIRST_TEN) - {"ccf"})
    assert employer.removed == {"ccf"}
    # Only the exceptions are stored.
    assert _exception_rows(desk.db, payco) == {"recheck_reminder": True}
    assert _exception_rows(desk.db, acme) == {"ccf": False}

    recheck_after = _post(desk, "recheck-after", **_claim(report_type="recheck_reminder"))
    assert recipients_of(desk.db, recheck_after.report_id) == {acme, payco}
    ccf_after = _post(desk, "ccf-after", **_claim(report_type="ccf"))
    assert recipients_of(desk.db, ccf_after.report_id) == {payco}
    # Reports routed before stay where they went.
    assert recipients_of(desk.db, recheck_before.report_id) == {acme}
    assert recipients_of(desk.db, ccf_before.report_id) == {acme, payco}

    # The payor's users are now offered the recheck reminder, and find the one sent to them.
    payor = desk.principal("payor_user")
    assert "recheck_reminder" in search.filter_choices(desk.db, payor).report_types
    found = search.search(desk.db, payor, ReportFilter(report_types=("recheck_reminder",))).rows
    assert [row.id for row in found] == [recheck_after.report_id]
    # The employer is no longer offered CCF, yet still sees the CCF routed to it before.
    client = desk.principal("client")
    assert "ccf" not in search.filter_choices(desk.db, client).report_types
    assert ccf_before.report_id in {row.id for row in search.search(desk.db, client, ReportFilter()).rows}
    assert access.open_report(desk.db, client, ccf_before.report_id).id == ccf_before.report_id


def test_back_to_the_standard_set_leaves_no_exception(desk):
    rep, payco = desk.principal("rep"), desk.account["payco"]
    standard = report_types.account_set(desk.db, rep, account_id=payco).standard
    report_types.set_account_types(desk.db, rep, account_id=payco,
                                   receives=(standard | {"first_notice"}) - {"atf"})
    assert _exception_rows(desk.db, payco) == {"first_notice": True, "atf": False}
    back = report_types.set_account_types(desk.db, rep, account_id=payco, receives=standard)
    assert back.receives == standard and _exception_rows(desk.db, payco) == {}


def test_a_change_of_an_accounts_set_is_audited_with_the_set_before_and_after(desk):
    rep, payco = desk.principal("rep"), desk.account["payco"]
    before = report_types.account_set(desk.db, rep, account_id=payco).receives
    after = (before | {"recheck_reminder"}) - {"atf"}
    report_types.set_account_types(desk.db, rep, account_id=payco, receives=after)
    event, = events(desk.db, "account.report_types_changed")
    assert (event.actor_user_id, event.target_type, event.target_id) == (
        desk.user["rep"], "account", str(payco))
    assert event.details == {"types_before": sorted(before), "types_after": sorted(after),
                             "types_added": ["recheck_reminder"], "types_removed": ["atf"]}
    # Saving the same set again changes nothing and records nothing.
    report_types.set_account_types(desk.db, rep, account_id=payco, receives=after)
    assert len(events(desk.db, "account.report_types_changed")) == 1


def test_an_account_set_names_only_active_types_and_only_reps_change_it(desk):
    rep, payco = desk.principal("rep"), desk.account["payco"]
    report_types.retire_type(desk.db, desk.principal("sysadmin"), code="no_show")
    current = report_types.account_set(desk.db, rep, account_id=payco)
    assert "no_show" not in current.standard | current.receives
    with pytest.raises(InvalidInput, match="Employer no-show letter is retired"):
        report_types.set_account_types(desk.db, rep, account_id=payco,
                                       receives=current.receives | {"no_show"})
    with pytest.raises(InvalidInput, match="Unknown report type"):
        report_types.set_account_types(desk.db, rep, account_id=payco,
                                       receives=current.receives | {"nope"})
    with pytest.raises(NotFound):
        report_types.account_set(desk.db, rep, account_id=999_999)
    for user_key in ("support", "client", "admin_p1"):
        with pytest.raises(PermissionDenied):
            report_types.set_account_types(desk.db, desk.principal(user_key), account_id=payco,
                                           receives=frozenset())
        with pytest.raises(PermissionDenied):
            report_types.account_set(desk.db, desk.principal(user_key), account_id=payco)
    assert _exception_rows(desk.db, payco) == {}
    assert events(desk.db, "account.report_types_changed") == []
    # A system admin holds every action, this one included.
    report_types.set_account_types(desk.db, desk.principal("sysadmin"), account_id=payco,
                                   receives=frozenset())
    assert report_types.account_set(desk.db, rep, account_id=payco).receives == frozenset()


def test_a_deactivated_account_receives_nothing_new(desk):
    with desk.db.transaction() as session:
        session.execute(update(Account).where(Account.id == desk.account["payco"])
                        .values(deactivated_at=START))
    # Uploads naming it are refused before; routing itself leaves it out too (a deactivation
    # between the checks and the posting).
    with desk.db.transaction(write=False) as session:
        assert routing.recipients(session, "ccf", employer=desk.account["acme"],
                                  claim_payer=desk.account["payco"]) == [desk.account["acme"]]
        assert routing.recipients(session, "ccf", employer=desk.account["acme"],
                                  claim_payer=None) == [desk.account["acme"]]


def test_a_new_types_default_kinds_decide_for_accounts_without_an_exception(desk):
    admin, rep = desk.principal("sysadmin"), desk.principal("rep")
    _add_texas(desk, kinds=frozenset({"employer"}))
    # One payor asked for it before payors received it by default.
    payco = desk.account["payco"]
    current = report_types.account_set(desk.db, rep, account_id=payco).receives
    report_types.set_account_types(desk.db, rep, account_id=payco, receives=current | {"tx_dwc73"})
    first = _post(desk, "tx-1", **_claim(report_type="tx_dwc73"))
    assert recipients_of(desk.db, first.report_id) == {desk.account["acme"], payco}
    # Then employers stop receiving it by default: the employer (no exception) follows.
    report_types.set_default_kinds(desk.db, admin, code="tx_dwc73", kinds=frozenset({"payor"}))
    second = _post(desk, "tx-2", **_claim(report_type="tx_dwc73"))
    assert recipients_of(desk.db, second.report_id) == {payco}
    assert recipients_of(desk.db, first.report_id) == {desk.account["acme"], payco}
    event, = events(desk.db, "report_type.defaults_changed")
    assert event.details == {"received_by_before": ["employer"], "received_by_after": ["payor"]}


def test_the_audit_trail_reads_the_changes_in_words(desk):
    from services.privacy import audit_words

    _add_texas(desk)
    rep, payco = desk.principal("rep"), desk.account["payco"]
    current = report_types.account_set(desk.db, rep, account_id=payco).receives
    report_types.set_account_types(desk.db, rep, account_id=payco, receives=current - {"atf"})
    with desk.db.transaction(write=False) as session:
        written = list(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["report_type.added", "account.report_types_changed"])).order_by(AuditEvent.id)))
        added, changed = audit_words.lines(session, written)
    assert added.sentence == "Report type added: Report type tx_dwc73"
    assert changed.sentence == "Report types an account receives changed: Payco Mutual (account %d)" % payco
    assert "Types removed: atf" in changed.details()


def test_two_admins_adding_one_name_at_once_make_one_type(desk):
    """The check and the insert take turns (SQLite's write lock, a PostgreSQL advisory lock), so
    the same name typed by two admins at the same moment, in two cases, makes one type."""
    from concurrent.futures import ThreadPoolExecutor

    admin = desk.principal("sysadmin")

    def add(code: str, name: str):
        try:
            return report_types.add_type(desk.db, admin, name=name, code=code, injury=True,
                                         kinds=frozenset({"employer"}))
        except InvalidInput as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(add, ["tx_a", "tx_b"], [TEXAS, TEXAS.upper()]))
    added = [r for r in results if isinstance(r, report_types.ReportTypeInfo)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(added) == 1 and len(refused) == 1
    assert "already called" in str(refused[0])
    assert _type_count(desk.db) == 11
    assert len(events(desk.db, "report_type.added")) == 1
