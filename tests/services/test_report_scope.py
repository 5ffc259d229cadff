"""Who sees which report: the scope every search, opening, download and bundle starts from.

Seen as a user or an attacker would: the search lists exactly the reports in scope, and every
way of reaching a report outside it by id (open, download, preview, bundle) or by a tampered
filter is refused with PermissionDenied and one `permission.denied` audit event, the same way
whether the report belongs to someone else or does not exist.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from services.errors import InvalidInput, PermissionDenied, ReportWithdrawn
from services.reports import access, bundle_links, search
from services.reports.access import STAFF_PURPOSES
from services.reports.search import ReportFilter
from tests.services.report_world import (
    REPORTS,
    SPEC,
    download_bundle,
    events,
    expect_denial,
    listing,
    reads,
)

ALL_KEYS = {spec.key for spec in REPORTS}
ACME = {"acme_ccf", "acme_injury", "acme_recheck", "acme_first_notice"}

# Exactly the reports each user may see (and open); everything else is refused.
VISIBLE = {
    "acme_user": ACME,
    "acme_user2": ACME,
    "globex_user": {"globex_ccf", "globex_referral", "globex_transcription"},
    # The recheck reminder was routed to Payco too: the routing decides, not today's set.
    "payco_user": {"acme_injury", "acme_recheck"},
    # Likewise the first notice of injury routed to the TPA.
    "tpa_user": {"globex_referral", "acme_first_notice"},
    "acme_and_payco": ACME,
    # The clinic keeps reading what it withdrew (Northside Main's no-show letter); archived
    # reports stay with staff.
    "staff_p1a": {"acme_ccf", "acme_recheck", "globex_referral", "acme_withdrawn"},
    "admin_p1b": {"acme_injury", "acme_first_notice"},
    "gadmin_north": {"acme_ccf", "acme_injury", "acme_recheck", "acme_first_notice",
                     "globex_referral", "acme_withdrawn"},
    "staff_p2a": {"globex_ccf", "globex_transcription", "unrouted"},
    "support": ALL_KEYS,
    "account_rep": ALL_KEYS,
    "privacy": ALL_KEYS,
}


def _search_ids(world, user_key: str, report_filter: ReportFilter = ReportFilter()) -> set[int]:
    principal = world.principal(user_key)
    page = search.search(world.db, principal, report_filter, purpose=listing(principal))
    assert page.next_cursor is None
    assert page.count == len(page.rows)
    return {row.id for row in page.rows}


# --- what each user finds ------------------------------------------------------------------

def _told_withdrawn(key: str, principal) -> bool:
    """The withdrawn report was sent to Acme: its users are told it was withdrawn."""
    return key == "acme_withdrawn" and any(link.account_name == "Acme Freight"
                                           for link in principal.account_links)


def _refused(world, principal, operation, report_id: int, *, told: bool) -> None:
    if not told:
        expect_denial(world.db, principal, operation, target_type="report", target_id=report_id)
        return
    before = len(events(world.db))
    with pytest.raises(ReportWithdrawn, match=f"^Report {report_id} was withdrawn by the clinic"):
        operation()
    assert [(e.action, e.target_id) for e in events(world.db)[before:]] == [
        ("permission.denied", str(report_id))]


@pytest.mark.parametrize("user_key", sorted(VISIBLE))
def test_search_lists_exactly_the_reports_in_scope(db, world, user_key):
    assert _search_ids(world, user_key) == world.ids(*VISIBLE[user_key])


@pytest.mark.parametrize("user_key", sorted(VISIBLE))
def test_each_report_opens_only_for_those_who_can_see_it(db, world, user_key):
    principal = world.principal(user_key)
    for key, report_id in world.report.items():
        if key in VISIBLE[user_key]:
            assert access.open_report(world.db, principal, report_id).id == report_id
        else:
            _refused(world, principal, lambda report_id=report_id: access.open_report(
                world.db, principal, report_id), report_id, told=_told_withdrawn(key, principal))
    opened = events(world.db, "report.opened")
    assert sorted(int(e.target_id) for e in opened) == sorted(world.ids(*VISIBLE[user_key]))
    assert {e.actor_user_id for e in opened} <= {principal.user_id}


def test_employer_never_finds_another_employers_or_hidden_reports(db, world):
    found = _search_ids(world, "acme_user")
    for key in ("globex_ccf", "globex_referral", "globex_transcription", "unrouted",
                "acme_archived", "acme_withdrawn"):
        assert world.report[key] not in found, key
    # Not even when asking for archived or withdrawn reports: only staff filter by status.
    asked = ReportFilter(statuses=("archived", "withdrawn"))
    assert _search_ids(world, "acme_user", asked) == world.ids(*ACME)


def test_a_report_routed_to_a_payor_stays_in_its_view_whatever_its_type(db, world):
    """Which types an account receives is decided when a report is posted; the routing row is
    the record. A payor or TPA whose set does not hold the employer letters today still finds,
    opens and downloads one routed to it, even filtering by that type."""
    for user_key, key in (("payco_user", "acme_recheck"), ("tpa_user", "acme_first_notice")):
        principal = world.principal(user_key)
        report_id = world.report[key]
        assert report_id in _search_ids(world, user_key)
        assert _search_ids(world, user_key, ReportFilter(report_types=(SPEC[key].report_type,))) \
            == {report_id}
        assert access.pdf_bytes(world.db, principal, report_id, blob_store=world.store)


def test_group_admin_sees_every_provider_of_the_group_but_not_another_group(db, world):
    found = _search_ids(world, "gadmin_north")
    assert world.ids("acme_ccf", "acme_recheck", "globex_referral") <= found  # Northside Main
    assert world.ids("acme_injury", "acme_first_notice") <= found  # Northside East
    assert not found & world.ids("globex_ccf", "globex_transcription", "unrouted")  # Southside


def test_staff_see_every_status(db, world):
    support = world.principal("support")
    page = search.search(world.db, support, ReportFilter(), purpose=listing(support))
    assert {row.status for row in page.rows} == {"available", "archived", "withdrawn"}
    assert {row.id for row in page.rows} == set(world.report.values())


def test_manager_without_the_reports_action_is_refused_and_audited(db, world):
    manager = world.principal("manager")
    expect_denial(world.db, manager,
                  lambda: search.search(world.db, manager, ReportFilter()),
                  target_type=None, target_id=None)
    expect_denial(world.db, manager,
                  lambda: search.filter_choices(world.db, manager),
                  target_type=None, target_id=None)
    report_id = world.report["acme_ccf"]
    before = len(events(world.db))
    with pytest.raises(PermissionDenied):
        access.open_report(world.db, manager, report_id)
    new = events(world.db)[before:]
    assert [(e.action, e.actor_user_id, e.details) for e in new] == [
        ("permission.denied", manager.user_id, {"action": "view_reports"})]
    assert not events(world.db, "report.opened")
    assert reads(world.db, manager.user_id) == set()


# --- acceptance: nothing outside the scope can be reached by id ----------------------------

def _open(world, principal, report_id):
    return access.open_report(world.db, principal, report_id)


def _pdf(world, principal, report_id):
    return access.pdf_bytes(world.db, principal, report_id, blob_store=world.store)


def _preview(world, principal, report_id):
    return access.first_page(world.db, principal, report_id, blob_store=world.store)


def _bundle(bundle_format):
    def build(world, principal, report_id):
        own = [world.report["acme_ccf"], world.report["acme_injury"]]
        return bundle_links.create(world.db, principal, [own[0], report_id, own[1]],
                                   bundle_format=bundle_format)
    return build


OPERATIONS = {"open": _open, "download": _pdf, "preview": _preview,
              "zip": _bundle("zip"), "merged_pdf": _bundle("pdf")}
MISSING_ID = 987_654


@pytest.mark.parametrize("target", ["globex_ccf", "missing", "acme_archived", "acme_withdrawn",
                                    "unrouted"])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_employer_cannot_reach_a_report_outside_their_scope(db, world, operation, target):
    principal = world.principal("acme_user")
    report_id = MISSING_ID if target == "missing" else world.report[target]
    # One report at a time by id: the recipient of a withdrawn one is told so (still refused).
    told = _told_withdrawn(target, principal) and operation in ("open", "download", "preview")
    _refused(world, principal, lambda: OPERATIONS[operation](world, principal, report_id),
             report_id, told=told)
    assert not [e for e in events(world.db) if e.action.startswith("report")]
    assert reads(world.db, principal.user_id) == set()


def test_a_foreign_report_and_a_missing_one_are_refused_alike(db, world):
    principal = world.principal("acme_user")
    messages = []
    for report_id in (world.report["globex_ccf"], MISSING_ID):
        with pytest.raises(Exception) as refused:
            access.open_report(world.db, principal, report_id)
        messages.append((type(refused.value).__name__, str(refused.value)))
    assert messages[0] == messages[1] == ("PermissionDenied", "You do not have permission to do that.")


def test_provider_users_cannot_reach_other_providers_reports_by_id(db, world):
    for user_key, key in (("staff_p1a", "acme_injury"), ("admin_p1b", "acme_ccf"),
                          ("gadmin_north", "globex_ccf"), ("staff_p2a", "acme_ccf")):
        principal = world.principal(user_key)
        report_id = world.report[key]
        expect_denial(world.db, principal,
                      lambda principal=principal, report_id=report_id: _pdf(world, principal,
                                                                            report_id),
                      target_type="report", target_id=report_id)


def test_own_reports_still_open_after_a_refusal(db, world):
    principal = world.principal("acme_user")
    with pytest.raises(PermissionDenied):
        _bundle("zip")(world, principal, world.report["globex_ccf"])
    bundle = download_bundle(world, principal,
                             [world.report["acme_ccf"], world.report["acme_injury"]])
    assert len(zipfile.ZipFile(io.BytesIO(bundle.data)).infolist()) == 2


# --- acceptance: tampered search filters ---------------------------------------------------
# An account outside the user's own, or (for provider-side users) a provider outside their
# reach, can only come from a tampered request. Client users may narrow by any clinic: that
# filter only narrows their own reports (test_report_search checks it finds nothing foreign).

@pytest.mark.parametrize("user_key, field, target", [
    ("acme_user", "account_id", "globex"),
    ("acme_user", "account_id", "payco"),
    ("payco_user", "account_id", "acme"),
    ("acme_and_payco", "account_id", "claimsco"),
    ("staff_p1a", "provider_id", "p1b"),  # same group, another provider
    ("staff_p1a", "account_id", "acme"),
    ("gadmin_north", "provider_id", "p2a"),
    ("admin_p1b", "provider_id", "p1a"),
    ("staff_p2a", "provider_id", "p1a"),
])
def test_a_tampered_filter_is_refused_and_audited(db, world, user_key, field, target):
    principal = world.principal(user_key)
    target_id = world.account[target] if field == "account_id" else world.provider[target]
    report_filter = ReportFilter(**{field: target_id})
    expect_denial(world.db, principal,
                  lambda: search.search(world.db, principal, report_filter),
                  target_type="account" if field == "account_id" else "provider",
                  target_id=target_id)


def test_filters_inside_the_scope_are_accepted(db, world):
    assert _search_ids(world, "acme_and_payco", ReportFilter(account_id=world.account["acme"])) \
        == world.ids(*ACME)
    assert _search_ids(world, "gadmin_north", ReportFilter(provider_id=world.provider["p1b"])) \
        == world.ids("acme_injury", "acme_first_notice")
    assert not events(world.db, "permission.denied")


# --- staff name a purpose before they see a PDF --------------------------------------------

def test_staff_need_a_purpose_to_download_or_preview(db, world):
    support = world.principal("support")
    report_id = world.report["globex_ccf"]
    for operation in (
        lambda: access.pdf_bytes(world.db, support, report_id, blob_store=world.store),
        lambda: access.first_page(world.db, support, report_id, blob_store=world.store),
        lambda: bundle_links.create(world.db, support, [report_id], bundle_format="zip"),
    ):
        with pytest.raises(InvalidInput, match="Choose why"):
            operation()
    assert not [e for e in events(world.db) if e.action.startswith("report")]
    assert reads(world.db, support.user_id) == set()
    # Opening the details needs no purpose (no PDF is shown).
    assert access.open_report(world.db, support, report_id).id == report_id


def test_staff_purpose_and_reference_go_into_the_audit_trail(db, world):
    support = world.principal("support")
    report_id = world.report["acme_withdrawn"]  # staff reach every status
    why = access.purpose(STAFF_PURPOSES[0], "TCK-1")
    _, data = access.pdf_bytes(world.db, support, report_id, blob_store=world.store,
                                      staff_purpose=why)
    assert data == world.pdf["acme_withdrawn"]
    access.first_page(world.db, support, report_id, blob_store=world.store,
                               staff_purpose=access.purpose(STAFF_PURPOSES[2]))
    downloaded = events(world.db, "report.downloaded")
    previewed = events(world.db, "report.previewed")
    assert len(downloaded) == len(previewed) == 1
    assert downloaded[0].details == {"purpose": STAFF_PURPOSES[0], "reference": "TCK-1"}
    assert downloaded[0].target_id == str(report_id)
    assert downloaded[0].actor_user_id == support.user_id
    assert previewed[0].details == {"purpose": STAFF_PURPOSES[2]}


@pytest.mark.parametrize("reason, reference", [
    (STAFF_PURPOSES[0], "TCK 1"),
    (STAFF_PURPOSES[0], "Jane Doe"),
    (STAFF_PURPOSES[0], "TCK-1;DROP"),
    (STAFF_PURPOSES[0], "<b>1</b>"),
    (STAFF_PURPOSES[0], "ü-1"),
    (STAFF_PURPOSES[0], "A" * 31),
    ("Just curious", ""),
    ("", "TCK-1"),
])
def test_invalid_purposes_are_refused(db, reason, reference):
    with pytest.raises(InvalidInput):
        access.purpose(reason, reference)


def test_a_valid_reference_is_trimmed_and_kept(db):
    assert access.purpose(STAFF_PURPOSES[4], "  INC#2026_07-a  ").reference == "INC#2026_07-a"
    assert access.purpose(STAFF_PURPOSES[4], "A" * 30).reference == "A" * 30


def test_account_filter_lists_what_is_routed_to_that_account(db, world):
    # The account filter shows what the account's own users see: its routed reports.
    assert _search_ids(world, "payco_user") == world.ids("acme_injury", "acme_recheck")
    assert _search_ids(world, "acme_and_payco", ReportFilter(account_id=world.account["payco"])) \
        == world.ids("acme_injury", "acme_recheck")
