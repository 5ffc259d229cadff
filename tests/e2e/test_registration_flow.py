"""Support issues a code; a facility registers; its admin invites a colleague by email (caught by a
real SMTP server); the colleague sets a password, signs in and sees only the group's reports."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import User
from services import principals
from services.demo import seed
from services.mail import outbox
from services.reports.ingest import ReportUpload, ingest
from tests.e2e.conftest import sign_in
from tests.fixtures.bad_pdfs import valid_pdf

pytestmark = pytest.mark.browser

NPI = "1234567893"
FACILITY = "Lakeside Occupational Health"
ADMIN = ("fran.first@lakeside.example", "Fran First", "Harbor-Lights-2026")
STAFF = ("sam.staff@lakeside.example", "Sam Staff", "Quiet-Meadow-Path-7")


def _sign_in(page: Page, url: str, who: str, password: str) -> None:
    sign_in(page, url, who, password)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()


def _choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    page.keyboard.type(option)  # the list is long and filtered by what is typed
    page.get_by_role("option", name=option).first.click()
    expect(box).to_have_value(option)


def test_registration_invitation_and_first_sign_in(portal, context, mailbox):
    box, smtp_url = mailbox
    url = portal["url"]
    page = context.new_page()

    # Support issues a code for the facility.
    _sign_in(page, url, "support@demo.test", seed.DEMO_PASSWORD)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Registration codes").click()
    page.get_by_role("textbox", name="Facility NPI").fill(NPI)
    page.get_by_role("textbox", name="Facility name").fill(FACILITY)
    page.get_by_role("button", name="Issue code").click()
    issued = page.get_by_text(f"Code for NPI {NPI}:")
    expect(issued).to_be_visible()
    code = re.search(r"([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})", issued.inner_text()).group(1)
    _sign_out(page)

    # The facility's first person registers and accepts the terms.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Register a provider group").click()
    page.get_by_role("textbox", name="Facility NPI (10 digits)").fill(NPI)
    page.get_by_role("textbox", name="Registration code").fill(code)
    page.get_by_role("textbox", name="Email address (your user ID)").fill(ADMIN[0])
    page.get_by_role("textbox", name="Your name").fill(ADMIN[1])
    page.get_by_role("textbox", name="Password", exact=True).fill(ADMIN[2])
    page.get_by_text("I have read and accept the terms of use").click()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Your provider group is registered")).to_be_visible()

    # The group gets a report of its own (posted by its admin), so "only its reports" means something.
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            admin = principals.load(session, session.scalar(select(User).where(User.email == ADMIN[0])))
        blobs = BlobStore(re.sub(r"^sqlite:///", "", portal["database_url"]).rsplit("/", 1)[0] + "/blobs")
        [posted] = ingest(db, admin, [ReportUpload("lakeside.pdf", valid_pdf(1), {
            "report_type": "ccf", "provider_npi": NPI, "service_date": "2026-11-02",
            "patient_last_name": "Lake", "patient_first_name": "Lee",
            "patient_date_of_birth": "1980-05-05", "employee_id": "L-1",
            "employer": seed._EMPLOYERS[0], "injury": "no"})], blob_store=blobs)
        assert posted.result == "posted"

        # Its admin signs in and invites a staff user.
        _sign_in(page, url, ADMIN[0], ADMIN[2])
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
        page.get_by_role("textbox", name="Email address (their user ID)").fill(STAFF[0])
        page.get_by_role("textbox", name="Email address again").fill(STAFF[0])
        page.get_by_role("textbox", name="Name", exact=True).fill(STAFF[1])
        _choose(page, "Role to give", f"Provider staff: {FACILITY}")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("Invitation sent.")).to_be_visible()
        _sign_out(page)

        # The sender job delivers through the real SMTP server.
        sent = outbox.send_due(db, transport=outbox.SmtpTransport(smtp_url))
        assert sent.sent >= 1
    finally:
        db.dispose()
    [invitation] = [m for m in box.messages if m["To"] == STAFF[0]]
    link = re.search(r"https?://\S+/accept-invitation\?token=[\w-]+",
                     invitation.get_payload(decode=True).decode()).group(0)
    token = link.rsplit("token=", 1)[1]

    # The colleague follows the link, sets a password, accepts the terms and the role, and signs in.
    page.goto(f"{url}/accept-invitation?token={token}")
    expect(page.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    page.get_by_role("textbox", name="Password", exact=True).fill(STAFF[2])
    page.get_by_text("I have read and accept the terms of use").click()
    page.get_by_role("button", name="Accept and set password").click()
    expect(page.get_by_text("Your password is set and the invitation accepted.")).to_be_visible()
    _sign_in(page, url, STAFF[0], STAFF[2])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_text("1 result · showing")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
