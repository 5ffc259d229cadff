"""Taking on a new employer, as the people involved do it in Chromium: accounts@demo.test creates
the account, gives it one report type its kind does not receive by default and takes a standard
one away, and invites its first admin (the address typed twice); the admin accepts from the
emailed link; a clinic posts a report of the added type and one of the removed type for a
patient of that employer; the employer's admin finds the first and never the second. Then the
representative deactivates the account and its admin loses it at the next click.

Also a walk of the Users list past 50 people: Next and Previous, a tick let go with a note on a
page turn, and the "Not signed in for (days)" filter.

Its own portal: a new report type and 70 extra people change what other walks would find."""

from __future__ import annotations

import email
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from db.engine import Database
from db.models import (
    Account,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    ReportRecipient,
    User,
)
from services import clock, principals
from services.demo import seed
from services.mail import outbox
from services.reports import report_types
from tests.e2e.conftest import (
    _start_portal,
    ask_to_save_report_types,
    click_first_column_tick,
    click_grid_row,
    settled,
    sign_in,
)
from tests.fixtures.bad_pdfs import valid_pdf

pytestmark = pytest.mark.browser

ACCOUNT = "Redbud Logistics"
ADMIN = ("rita.redbud@example.test", "Rita Redbud", "Sunflower-Gate-93!")
# Received by payors and TPAs by default, not by employers: non-standard for an employer.
ADDED = ("ok_wc_claim", "Oklahoma CompSource employer claim form")
REMOVED = ("no_show", "Employer no-show letter")  # standard for employers
COLUMNS = ("file,report_type,provider_npi,service_date,patient_last_name,patient_first_name,"
           "patient_date_of_birth,employee_id,employer,injury,claim_number,claim_payer")
CROWD = 70


def _as(db: Database, address: str):
    with db.transaction(write=False) as session:
        return principals.load(session, session.scalar(select(User).where(User.email == address)))


def _prepare(db: Database) -> None:
    """A report type only payors and TPAs receive by default, and 70 more client users (some
    dormant), so the Users list has more than one page."""
    report_types.add_type(db, _as(db, "admin@demo.test"), name=ADDED[1], code=ADDED[0],
                          injury=True, kinds=frozenset({"payor", "tpa"}))
    now = clock.now()
    with db.transaction() as session:
        session.execute(insert(User), [
            {"email": f"zz.walker{n:03d}@crowd.test", "name": f"Walker {n:03d}", "status": "active",
             "created_at": now - timedelta(days=400), "last_login_at": now - timedelta(days=n * 5 + 0.5)}
            for n in range(CROWD)])


@pytest.fixture(scope="module")
def account_portal(tmp_path_factory):
    yield from _start_portal(tmp_path_factory.mktemp("client-accounts"), {}, prepare=_prepare)


def _database(portal) -> Database:
    return Database(portal["database_url"])


def _nav(page: Page, screen: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=screen).click()
    expect(page.get_by_role("heading", name=screen, exact=True)).to_be_visible()
    settled(page)


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).first.click()
    settled(page)


def _create_account(page: Page) -> None:
    page.get_by_text("Create a client account").click()
    form = page.get_by_test_id("stForm").filter(has_text="Create account")
    form.get_by_role("combobox", name="Kind").click()
    page.get_by_role("option", name="Employer", exact=True).click()
    form.get_by_role("textbox", name="Account name").fill(ACCOUNT)
    form.get_by_role("textbox", name="External reference (optional)").fill("CRM-5150")
    form.get_by_role("textbox", name="Contact name").fill("Rosa Redbud")
    form.get_by_role("textbox", name="Contact email").fill("rosa@redbud.test")
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Client account created: it is chosen below.")).to_be_visible()
    expect(page.get_by_role("combobox", name="Account")).to_have_value(
        f"{ACCOUNT} (Employer, 0 people)")
    expect(page.get_by_text("External reference: CRM-5150")).to_be_visible()
    expect(page.get_by_text("Main contact: Rosa Redbud, rosa@redbud.test")).to_be_visible()


def _set_report_types(page: Page, portal) -> None:
    """The account's own set, in its "Report types this account receives" table: tick the
    non-standard type, untick a standard one, save after the question."""
    db = _database(portal)
    try:
        codes = [kind.code for kind in report_types.active_types(db)]
    finally:
        db.dispose()
    heading = page.get_by_role("heading", name="Report types this account receives")
    expect(heading).to_be_visible()
    expect(page.get_by_text("Receives 10 report types: the standard set for its kind.")).to_be_visible()
    editor = page.get_by_test_id("stDataFrame").first
    # The standard type first: ticking the added type, last in the list, scrolls the table.
    for code in (REMOVED[0], ADDED[0]):
        # The table is a canvas: click the row's Receives tick (the first column), then move on.
        click_first_column_tick(page, editor, codes.index(code))
        heading.click()  # leave the table, as a person moves on to Save
        settled(page)
    dialog = ask_to_save_report_types(page, [f"It will receive: {ADDED[1]}.",
                                              f"It will no longer receive: {REMOVED[1]}."])
    dialog.get_by_role("button", name="Save report types").click()
    expect(page.get_by_text("Report types saved: reports posted from now on follow them.")
           ).to_be_visible()
    expect(page.get_by_text(f"added to the standard set: {ADDED[1]}; removed from the standard "
                            f"set: {REMOVED[1]}.", exact=False)).to_be_visible()


def _invite_admin(page: Page) -> None:
    form = page.get_by_test_id("stForm").filter(has_text="Send invitation")
    expect(page.get_by_role("heading", name="Invite the account's first admin")).to_be_visible()
    form.get_by_role("textbox", name="Email address (their user ID)").fill(ADMIN[0])
    form.get_by_role("textbox", name="Email address again").fill("rita.redbud@example.tset")
    form.get_by_role("textbox", name="Name", exact=True).fill(ADMIN[1])
    form.get_by_role("button", name="Send invitation").click()
    # A slip in the second address is caught before anything is asked or sent.
    expect(page.get_by_text("The two email addresses are not the same")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    form.get_by_role("textbox", name="Email address again").fill(ADMIN[0])
    form.get_by_role("button", name="Send invitation").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"{ADMIN[1]} ({ADMIN[0]}) will be offered: Client account "
                                   f"admin of {ACCOUNT}.")
    dialog.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Invitation sent. The link works for 48 hours")).to_be_visible()


def _invitation_link(portal, folder) -> str:
    db = _database(portal)
    try:
        outbox.send_due(db, transport=outbox.EmlFolderTransport(folder))
    finally:
        db.dispose()
    for path in sorted(folder.glob("*-invitation.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == ADMIN[0]:
            body = message.get_payload(decode=True).decode()
            assert f"Client account admin: {ACCOUNT}" in body.replace("\n", " ")
            return re.search(r"/accept-invitation\?token=[\w-]+", body).group(0)
    raise AssertionError(f"no invitation to {ADMIN[0]} in {folder}")


def _accept(page: Page, url: str, link: str) -> None:
    page.goto(url + link)
    expect(page.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    page.get_by_role("textbox", name="Password", exact=True).fill(ADMIN[2])
    page.get_by_text("I have read and accept the terms of use").click()
    page.get_by_role("button", name="Accept and set password").click()
    expect(page.get_by_text("Your password is set and the invitation accepted.")).to_be_visible()


def _post_two_reports(page: Page, portal, folder) -> None:
    """The clinic posts one report of the added type and one of the removed type for a patient
    of the new employer (named in the manifest)."""
    db = _database(portal)
    try:
        with db.transaction(write=False) as session:
            npi = session.scalar(select(Provider.npi).join(ProviderGroup)
                                 .where(ProviderGroup.name == seed._GROUPS[0][0])
                                 .order_by(Provider.id))
    finally:
        db.dispose()
    (folder / "claim.pdf").write_bytes(valid_pdf(3))
    (folder / "no-show.pdf").write_bytes(valid_pdf(4))
    (folder / "manifest.csv").write_text("\n".join([
        COLUMNS,
        f"claim.pdf,{ADDED[0]},{npi},2026-11-02,Redbud,Reese,1988-03-04,RB001,{ACCOUNT},yes,,",
        f"no-show.pdf,{REMOVED[1]},{npi},2026-11-02,Redbud,Reese,1988-03-04,RB001,{ACCOUNT},no,,",
    ]) + "\n")
    _nav(page, "Upload reports")
    pdfs = page.get_by_role("region", name="Report PDFs").locator("input[type=file]")
    pdfs.set_input_files([folder / "claim.pdf", folder / "no-show.pdf"])
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    manifest = page.get_by_role("region", name="Details from a CSV manifest (optional)")
    manifest.locator("input[type=file]").set_input_files(folder / "manifest.csv")
    expect(page.get_by_text("manifest.csv")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.get_by_role("button", name="Post 2 reports").click()
    expect(page.get_by_role("heading", name="Last upload")).to_be_visible()
    expect(page.get_by_text("2 posted")).to_be_visible()


def _routing(portal) -> dict[str, list[str]]:
    """Each new report's type and the accounts it was routed to, by name."""
    db = _database(portal)
    try:
        with db.transaction(write=False) as session:
            account_id = session.scalar(select(Account.id).where(Account.name == ACCOUNT))
            found = session.execute(
                select(Report.report_type, Account.name)
                .outerjoin(ReportRecipient, ReportRecipient.report_id == Report.id)
                .outerjoin(Account, Account.id == ReportRecipient.account_id)
                .join(Patient, Patient.id == Report.patient_id)
                .where(Patient.employer_account_id == account_id)).all()
    finally:
        db.dispose()
    routed: dict[str, list[str]] = {}
    for report_type, name in found:
        routed.setdefault(report_type, [])
        if name:
            routed[report_type].append(name)
    return routed


def test_a_new_employer_is_set_up_its_admin_accepts_and_sees_only_the_types_it_receives(
        account_portal, context, browser, tmp_path):
    url = account_portal["url"]
    rep = context.new_page()
    sign_in(rep, url, "accounts@demo.test")
    _nav(rep, "Client accounts")
    _create_account(rep)
    _set_report_types(rep, account_portal)
    _invite_admin(rep)
    link = _invitation_link(account_portal, tmp_path / "outbox")

    # The admin accepts from the link in a browser of their own.
    admin_context = browser.new_context()
    admin_context.set_default_timeout(20_000)
    try:
        admin = admin_context.new_page()
        _accept(admin, url, link)

        clinic_context = browser.new_context()
        clinic_context.set_default_timeout(20_000)
        try:
            clinic = clinic_context.new_page()
            sign_in(clinic, url, "groupadmin@demo.test")
            _post_two_reports(clinic, account_portal, tmp_path)
        finally:
            clinic_context.close()
        # The added type went to the account; the type taken from it went nowhere.
        assert _routing(account_portal) == {ADDED[0]: [ACCOUNT], REMOVED[0]: []}

        sign_in(admin, url, ADMIN[0], ADMIN[2])
        expect(admin.get_by_role("heading", name="Welcome")).to_be_visible()
        _nav(admin, "Reports")
        expect(admin.get_by_text("1 result · showing")).to_be_visible()
        click_grid_row(admin, 0)
        settled(admin)
        admin.get_by_role("button", name="Open report").click()
        expect(admin.get_by_text(ADDED[1]).first).to_be_visible()
        expect(admin.get_by_text(REMOVED[1])).to_have_count(0)

        # The representative now sees the admin among the account's people, then deactivates
        # the account, told how many people lose access.
        rep.reload()
        _choose(rep, "Account", f"{ACCOUNT} (Employer, 1 person)")
        expect(rep.get_by_role("heading", name="Invite another admin")).to_be_visible()
        rep.get_by_role("button", name="Deactivate account").click()
        dialog = rep.get_by_role("dialog")
        expect(dialog).to_contain_text("1 person will lose access to it at once")
        dialog.get_by_role("button", name="Deactivate").click()
        expect(rep.get_by_text("Account deactivated: 1 person lost access to it.")).to_be_visible()
        expect(rep.get_by_role("combobox", name="Account")).to_have_value(
            f"{ACCOUNT} (Employer, 1 person, deactivated)")

        # The admin's next click: the account and its reports are gone from their portal.
        admin.reload()
        expect(admin.get_by_text("You do not have access to this page.").or_(
            admin.get_by_role("heading", name="Welcome"))).to_be_visible()
        expect(admin.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True)
               ).to_have_count(0)
    finally:
        admin_context.close()


def test_the_users_list_pages_past_fifty_and_finds_dormant_people(account_portal, context):
    page = context.new_page()
    sign_in(page, account_portal["url"], "admin@demo.test")
    _nav(page, "Users")
    people = page.get_by_text(re.compile(r"^People \d"))
    expect(people).to_have_text("People 1–50, more on the next page")
    expect(page.get_by_role("button", name="← Previous")).to_be_disabled()
    # Tick the first person, then turn the page: the tick lets go, and a note says whom.
    grid = page.get_by_test_id("stDataFrame").filter(has=page.locator("canvas")).first
    click_grid_row(page, 0)
    expect(page.get_by_role("button", name=re.compile(r"^Deactivate \(1\)"))).to_be_visible()
    page.get_by_role("button", name="Next →").click()
    expect(people).to_have_text(re.compile(r"^People 51–"))
    expect(page.get_by_text("was on the page you left, so no longer selected.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Deactivate \("))).to_have_count(0)
    expect(grid).to_be_visible()
    page.get_by_role("button", name="← Previous").click()
    expect(people).to_have_text("People 1–50, more on the next page")

    # Dormant: not signed in for more than 200 days (the walkers last signed in 0.5, 5.5, 10.5
    # ... days before the portal started).
    page.get_by_role("textbox", name="Email or name contains").fill("crowd.test")
    page.get_by_role("spinbutton", name="Not signed in for (days)").fill("200")
    page.get_by_role("button", name="Show people").click()
    expected = sum(1 for n in range(CROWD) if n * 5 + 0.5 > 200)
    expect(people).to_have_text(f"People 1–{expected}")
    expect(page.get_by_role("button", name="Next →")).to_be_disabled()


def test_a_system_admin_renames_deactivates_and_reactivates_an_account(account_portal, context):
    """The Account picker shows the new name and status at once (a kept picker once went on
    showing the old label), and reactivating gives the account's person their access back."""
    page = context.new_page()
    sign_in(page, account_portal["url"], "admin@demo.test")
    _nav(page, "Client accounts")
    picker = page.get_by_role("combobox", name="Account")
    _choose(page, "Account", f"{seed._PAYORS[1]} (Payor, 0 people)")
    page.get_by_text("Edit details").click()
    # A keyed expander reruns the page as it opens; a person waits for that before typing.
    settled(page)
    form = page.get_by_test_id("stForm").filter(has_text="Save details")
    form.get_by_role("textbox", name="Account name").fill("Keystone Casualty")
    form.get_by_role("textbox", name="Contact name").fill("")
    form.get_by_role("button", name="Save details").click()
    # An account keeps a main contact: saving without one asks for it, and keeps what was typed.
    expect(page.get_by_text("Enter the name of the account's main contact.")).to_be_visible()
    expect(form.get_by_role("textbox", name="Account name")).to_have_value("Keystone Casualty")
    form.get_by_role("textbox", name="Contact name").fill("Kay Stone")
    form.get_by_role("textbox", name="Contact email").fill("kay@keystone.test")
    form.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details saved.")).to_be_visible()
    expect(picker).to_have_value("Keystone Casualty (Payor, 0 people)")
    expect(page.get_by_text("Main contact: Kay Stone, kay@keystone.test")).to_be_visible()

    page.get_by_role("button", name="Deactivate account").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("0 people will lose access to it at once")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    settled(page)
    expect(picker).to_have_value("Keystone Casualty (Payor, 0 people)")
    page.get_by_role("button", name="Deactivate account").click()
    dialog.get_by_role("button", name="Deactivate").click()
    expect(picker).to_have_value("Keystone Casualty (Payor, 0 people, deactivated)")
    expect(page.get_by_text("Reactivate the account to invite anyone to it.")).to_be_visible()
    page.get_by_role("button", name="Reactivate account").click()
    dialog.get_by_role("button", name="Reactivate").click()
    expect(page.get_by_text("Account reactivated: 0 people can reach it again.")).to_be_visible()
    expect(picker).to_have_value("Keystone Casualty (Payor, 0 people)")
