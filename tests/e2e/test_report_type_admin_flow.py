"""A new report type end to end, in Chromium, on a portal of its own (the type list is
portal-wide): admin@demo.test adds "Texas DWC-73 work status report" as an injury type that
employers and payors receive; a clinic posts one; the employer finds it by that type; the
Dashboard counts it. Then the admin retires it: the next upload is refused with the reason and
the report already posted stays in the employer's view."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.blob_store import BlobStore

from db.engine import Database
from db.models import Account, Patient, Provider, Report, ReportRecipient
from services.demo import seed
from services.reports import report_types
from tests.e2e.conftest import (
    _start_portal,
    ask_to_save_report_types,
    choose_option,
    click_first_column_tick,
    open_report_filters,
    settled,
    sign_in,
)
from tests.conftest import principal_of
from tests.services.report_world import add_report, pdf_for

pytestmark = pytest.mark.browser

TEXAS = "Texas DWC-73 work status report"
CODE = "tx_dwc73"
COLUMNS = ("file,report_type,provider_npi,service_date,patient_last_name,patient_first_name,"
           "patient_date_of_birth,employee_id,employer,injury,claim_number,claim_payer")


@pytest.fixture(scope="module")
def types_portal(tmp_path_factory):
    yield from _start_portal(tmp_path_factory.mktemp("report-types"), {})


def _db(portal) -> Database:
    return Database(portal["database_url"])


def _clinic_npi(portal) -> str:
    """The provider clinicadmin@demo.test administers."""
    db = _db(portal)
    try:
        with db.transaction(write=False) as session:
            return session.scalar(select(Provider.npi).where(Provider.name == seed._GROUPS[0][1][0][0]))
    finally:
        db.dispose()


def _open(page: Page, link: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    settled(page)


def _post(page: Page, portal, tmp_path: Path, name: str, *, report_type: str, last: str,
          employee_id: str) -> None:
    """Post one PDF with a one-line manifest, as the clinic's admin."""
    service_day = (date.today() - timedelta(days=1)).isoformat()
    (tmp_path / f"{name}.pdf").write_bytes(pdf_for(name, 1))
    (tmp_path / f"{name}.csv").write_text(COLUMNS + "\n" + (
        f"{name}.pdf,{report_type},{_clinic_npi(portal)},{service_day},{last},Ana,1985-03-04,"
        f"{employee_id},{seed._EMPLOYERS[0]},yes,TX-{employee_id},{seed._PAYORS[0]}\n"))
    _open(page, "Upload reports", "Upload reports")
    page.get_by_role("region", name="Report PDFs").locator("input[type=file]").set_input_files(
        tmp_path / f"{name}.pdf")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    page.get_by_role("region", name="Details from a CSV manifest (optional)").locator(
        "input[type=file]").set_input_files(tmp_path / f"{name}.csv")
    expect(page.get_by_text(f"{name}.csv")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.get_by_role("button", name="Post 1 report").click()
    expect(page.get_by_role("heading", name="Last upload")).to_be_visible()


def _search_by_type(page: Page, label: str) -> None:
    """Reports: choose one report type in the filters and search."""
    _open(page, "Reports", "Reports")
    open_report_filters(page)
    # The list shows a few options at a time: typing narrows it, as a person would.
    choose_option(page, page.get_by_role("combobox", name="Report type"), label)
    page.keyboard.press("Escape")
    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()
    settled(page)


def test_a_new_type_is_added_posted_found_and_counted(types_portal, browser, tmp_path):
    portal = types_portal
    # The system admin adds the type.
    admin = browser.new_context().new_page()
    sign_in(admin, portal["url"], "admin@demo.test")
    _open(admin, "Report types", "Report types")
    expect(admin.get_by_text(TEXAS)).to_have_count(0)
    admin.get_by_text("Add a report type").click()
    admin.get_by_role("textbox", name="Name").fill(TEXAS)
    admin.get_by_role("textbox", name="Short code").fill(CODE)
    # Nothing is chosen until the admin picks.
    expect(admin.get_by_role("radio", name="Injury", exact=True)).not_to_be_checked()
    expect(admin.get_by_role("radio", name="Non-injury", exact=True)).not_to_be_checked()
    admin.get_by_test_id("stRadioGroup").get_by_text("Injury", exact=True).click()
    admin.get_by_role("combobox", name="Received by default by").click()
    admin.get_by_role("option", name="Employers").click()
    admin.get_by_role("option", name="Payors").click()
    admin.keyboard.press("Escape")
    admin.get_by_role("button", name="Add report type").click()
    expect(admin.get_by_text(f"Report type added: {TEXAS} ({CODE}).", exact=False)).to_be_visible()
    settled(admin)
    # The list shows it at once, and it is the type chosen for changes below the list.
    expect(admin.get_by_test_id("stDataFrame").get_by_text(TEXAS).first).to_be_attached()
    expect(admin.get_by_role("button", name="Retire", exact=True)).to_be_visible()
    admin.context.close()

    db = _db(portal)
    try:
        added = {t.code: t for t in report_types.all_types(db)}[CODE]
    finally:
        db.dispose()
    assert (added.name, added.injury, added.kinds) == (TEXAS, True, {"employer", "payor"})

    # A clinic posts one: the upload form and the manifest know the type at once.
    clinic = browser.new_context().new_page()
    sign_in(clinic, portal["url"], "clinicadmin@demo.test")
    _post(clinic, portal, tmp_path, "texas-0001", report_type=TEXAS, last="Tejas",
          employee_id="ETX001")
    expect(clinic.get_by_text("1 posted, 0 rejected")).to_be_visible()
    clinic.context.close()
    db = _db(portal)
    try:
        with db.transaction(write=False) as session:
            report = session.scalar(select(Report).where(Report.report_type == CODE))
            routed = set(session.scalars(select(Account.name).join(
                ReportRecipient, ReportRecipient.account_id == Account.id)
                .where(ReportRecipient.report_id == report.id)))
    finally:
        db.dispose()
    assert routed == {seed._EMPLOYERS[0], seed._PAYORS[0]}

    # The employer finds it by that type.
    employer = browser.new_context().new_page()
    sign_in(employer, portal["url"], "employer@demo.test")
    _search_by_type(employer, TEXAS)
    expect(employer.get_by_text("result · showing 1–1")).to_be_visible()
    expect(employer.get_by_test_id("stDataFrame").get_by_text("Tejas, Ana")).to_be_attached()
    employer.context.close()

    # The Dashboard counts it.
    manager = browser.new_context().new_page()
    manager.set_viewport_size({"width": 1400, "height": 1200})
    sign_in(manager, portal["url"], "manager@demo.test")
    _open(manager, "Dashboard", "Dashboard")
    manager.get_by_role("combobox", name="Report types").click()
    manager.keyboard.type(TEXAS)
    manager.get_by_role("option", name=TEXAS, exact=True).click()
    manager.keyboard.press("Escape")
    settled(manager)
    posted = manager.get_by_test_id("stMetric").filter(has_text="Reports posted")
    expect(posted.get_by_test_id("stMetricValue")).to_have_text("1")
    expect(manager.get_by_test_id("stException")).to_have_count(0)
    manager.context.close()


def _texas_with_one_report(portal) -> None:
    """What the test above leaves behind, made here when this test runs without it (alone, or
    on a fresh portal): the type, and one report of it routed to the employer and the payor."""
    db = _db(portal)
    try:
        if CODE in {t.code for t in report_types.all_types(db)}:
            return
        report_types.add_type(db, principal_of(db, "admin@demo.test"), name=TEXAS, code=CODE,
                              injury=True, kinds=frozenset({"employer", "payor"}))
        with db.transaction(write=False) as session:
            employer, payor = (session.scalar(select(Account.id).where(Account.name == name))
                               for name in (seed._EMPLOYERS[0], seed._PAYORS[0]))
            provider = session.scalar(select(Provider.id).where(
                Provider.name == seed._GROUPS[0][1][0][0]))
        with db.transaction() as session:
            patient = Patient(first_name="Ana", last_name="Tejas", date_of_birth=date(1985, 3, 4),
                              employee_id="ETX001", employer_account_id=employer)
            session.add(patient)
            session.flush()
            patient = patient.id
        store = BlobStore(Path(portal["database_url"].removeprefix("sqlite:///")).parent / "blobs")
        add_report(db, report_type=CODE, patient_id=patient, provider_id=provider,
                   posted_at=datetime.now(timezone.utc) - timedelta(hours=1), recipients=(employer, payor),
                   injury=True, store=store, label="texas-0001")
    finally:
        db.dispose()


def test_a_retired_type_takes_no_upload_and_its_report_stays(types_portal, browser, tmp_path):
    portal = types_portal
    _texas_with_one_report(portal)
    admin = browser.new_context().new_page()
    sign_in(admin, portal["url"], "admin@demo.test")
    _open(admin, "Report types", "Report types")
    choose_option(admin, admin.get_by_role("combobox", name="Report type to change"), TEXAS)
    settled(admin)
    admin.get_by_role("button", name="Retire", exact=True).click()
    dialog = admin.get_by_role("dialog")
    expect(dialog.get_by_text(f"Retire {TEXAS} ({CODE})?")).to_be_visible()
    expect(dialog.get_by_text("Reports of this type posted so far: 1.", exact=False)).to_be_visible()
    expect(dialog.get_by_text("They stay where they were routed", exact=False)).to_be_visible()
    # Cancel first: nothing changes.
    dialog.get_by_role("button", name="Cancel").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)
    db = _db(portal)
    try:
        assert not {t.code: t for t in report_types.all_types(db)}[CODE].retired
    finally:
        db.dispose()
    admin.get_by_role("button", name="Retire", exact=True).click()
    admin.get_by_role("dialog").get_by_role("button", name="Retire", exact=True).click()
    expect(admin.get_by_text(f"{TEXAS} is retired: uploads of it are refused")).to_be_visible()
    # Only what can apply: it is taken back into use, not retired again.
    expect(admin.get_by_role("button", name="Take back into use")).to_be_visible()
    expect(admin.get_by_role("button", name="Retire", exact=True)).to_have_count(0)
    admin.context.close()

    clinic = browser.new_context().new_page()
    sign_in(clinic, portal["url"], "clinicadmin@demo.test")
    _post(clinic, portal, tmp_path, "texas-0002", report_type=CODE, last="Tejas",
          employee_id="ETX002")
    expect(clinic.get_by_text("0 posted, 1 rejected")).to_be_visible()
    expect(clinic.get_by_text(f"{TEXAS} is retired: it takes no new uploads.")).to_be_attached()
    clinic.context.close()

    employer = browser.new_context().new_page()
    sign_in(employer, portal["url"], "employer@demo.test")
    _search_by_type(employer, f"{TEXAS} (retired)")
    expect(employer.get_by_text("result · showing 1–1")).to_be_visible()
    expect(employer.get_by_test_id("stDataFrame").get_by_text("Tejas, Ana")).to_be_attached()
    employer.context.close()


def _tick(page: Page, row: int) -> None:
    """Click one row's Receives tick in the account's table (a canvas: by position; the box sits
    in the middle of the first, narrow column), then move on to the section's heading."""
    click_first_column_tick(page, page.get_by_test_id("stDataFrame").first, row)
    page.get_by_role("heading", name="Report types this account receives").click()
    settled(page)


def _pick_account(page: Page, name: str) -> None:
    page.get_by_role("combobox", name="Account", exact=True).click()
    page.keyboard.type(name)
    page.get_by_role("option", name=name, exact=False).first.click()
    settled(page)


def test_an_account_representative_changes_one_payors_set(types_portal, browser):
    """Tick a type the payor's kind does not receive and untick a standard one: Save names both,
    Cancel changes nothing, another account never shows those ticks, and once saved the table
    and the summary show the account's new set."""
    portal = types_portal
    db = _db(portal)
    try:
        codes = [t.code for t in report_types.active_types(db)]
        names = report_types.names(db)
        # What a payor receives by default: the ten types' eight, plus any added for payors
        # earlier in this module and still in use.
        standard = sum(1 for t in report_types.active_types(db) if t.for_payors)
    finally:
        db.dispose()
    page = browser.new_context(viewport={"width": 1300, "height": 1800}).new_page()
    sign_in(page, portal["url"], "accounts@demo.test")
    _open(page, "Client accounts", "Client accounts")
    _pick_account(page, seed._PAYORS[0])
    expect(page.get_by_text(f"Receives {standard} report types: the standard set for its kind.")
           ).to_be_visible()
    save = page.get_by_role("button", name="Save report types")
    expect(save).to_be_disabled()
    _tick(page, codes.index("recheck_reminder"))
    _tick(page, codes.index("atf"))
    dialog = ask_to_save_report_types(page, [f"It will receive: {names['recheck_reminder']}.",
                                 f"It will no longer receive: {names['atf']}."])
    expect(dialog).to_contain_text("applies to reports posted after it is saved")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    db = _db(portal)
    try:
        with db.transaction(write=False) as session:
            payor = session.scalar(select(Account.id).where(Account.name == seed._PAYORS[0]))
            other = session.scalar(select(Account.id).where(Account.name == seed._PAYORS[1]))
        with db.transaction(write=False) as session:
            sets = report_types.receiving(session, [payor, other])
    finally:
        db.dispose()
    assert "recheck_reminder" not in sets[payor] and "atf" in sets[payor]
    # Another account shows its own set, without those ticks.
    _pick_account(page, seed._PAYORS[1])
    expect(page.get_by_text(f"Receives {standard} report types: the standard set for its kind.")
           ).to_be_visible()
    expect(page.get_by_text("Not saved yet", exact=False)).to_have_count(0)
    # Back to the first payor: ticked again and saved after the question.
    _pick_account(page, seed._PAYORS[0])
    _tick(page, codes.index("recheck_reminder"))
    _tick(page, codes.index("atf"))
    ask_to_save_report_types(page, [f"It will receive: {names['recheck_reminder']}.",
                        f"It will no longer receive: {names['atf']}."]).get_by_role(
        "button", name="Save report types").click()
    expect(page.get_by_text("Report types saved: reports posted from now on follow them.")).to_be_visible()
    expect(page.get_by_text(f"Receives {standard} report types: added to the standard set: "
                            f"{names['recheck_reminder']}; removed from the standard set: "
                            f"{names['atf']}.")).to_be_visible()
    expect(page.get_by_text("Not saved yet", exact=False)).to_have_count(0)
    db = _db(portal)
    try:
        with db.transaction(write=False) as session:
            sets = report_types.receiving(session, [payor, other])
    finally:
        db.dispose()
    assert "recheck_reminder" in sets[payor] and "atf" not in sets[payor]
    assert "recheck_reminder" not in sets[other] and "atf" in sets[other]
    page.context.close()
