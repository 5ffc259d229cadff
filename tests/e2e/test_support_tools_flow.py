"""Support changes a caller's email address on the Users screen: the confirmation link (caught by a
real SMTP server) goes to the new address and a notice to the old one; opening it changes the
address, the person's open browser is signed out at its next click, and they sign in with the new
address. Support also switches their new-result emails on (they see it on My account) and sends
them a reset link."""

from __future__ import annotations

import email
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from db.engine import Database
from db.models import LoginSession, User
from services.mail import outbox
from tests.e2e.conftest import _start_portal, open_support_tools, settled, sign_in

pytestmark = pytest.mark.browser

PERSON = "payor@demo.test"
NEW = "pat.payor@newmail.example"


@pytest.fixture(scope="module")
def support_portal(tmp_path_factory):
    """Its own portal: a demo login's address changes here."""
    yield from _start_portal(tmp_path_factory.mktemp("support-tools"), {})


def _deliver(database_url: str, smtp_url: str) -> None:
    """Send what is queued, as the send job does every few seconds in a deployment."""
    db = Database(database_url)
    try:
        outbox.send_due(db, transport=outbox.SmtpTransport(smtp_url))
    finally:
        db.dispose()


def _body(message: email.message.Message) -> str:
    return message.get_payload(decode=True).decode()


def _open_sessions(database_url: str, address: str) -> int:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user_id = session.scalar(select(User.id).where(User.email == address))
            return len(session.scalars(select(LoginSession.id).where(
                LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))).all())
    finally:
        db.dispose()


def test_support_changes_an_email_address_and_the_person_signs_in_with_it(
        support_portal, context, mailbox):
    box, smtp_url = mailbox
    url, database_url = support_portal["url"], support_portal["database_url"]

    # The person is signed in somewhere while support works.
    theirs = context.browser.new_context()
    their_page = theirs.new_page()
    sign_in(their_page, url, PERSON)
    expect(their_page.get_by_role("heading", name="Welcome")).to_be_visible()

    page = context.new_page()
    sign_in(page, url, "support@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    open_support_tools(page, PERSON)

    # Two different addresses are refused, and nothing is sent.
    form = page.get_by_test_id("stForm").filter(has_text="Send confirmation link")
    form.get_by_role("textbox", name="New email address", exact=True).fill(NEW)
    form.get_by_role("textbox", name="New email address again").fill("pat.payor@newmial.example")
    form.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_text("The two email addresses differ")).to_be_visible()
    settled(page)
    # An address another account uses is refused too.
    form.get_by_role("textbox", name="New email address", exact=True).fill("tpa@demo.test")
    form.get_by_role("textbox", name="New email address again").fill("tpa@demo.test")
    form.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_text("Another account already uses that email address")).to_be_visible()
    _deliver(database_url, smtp_url)
    assert box.messages == []

    settled(page)  # the refusal's rerun is over: one form on the screen again
    form.get_by_role("textbox", name="New email address", exact=True).fill(NEW)
    form.get_by_role("textbox", name="New email address again").fill(NEW)
    form.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_text("Confirmation link sent to the new address")).to_be_visible()
    expect(page.get_by_text(f"Waiting for confirmation: {NEW}")).to_be_visible()
    # The same panel, still this person's: their new-result emails, then a reset link.
    expect(page.get_by_text("New-result emails: off.")).to_be_visible()
    page.get_by_role("button", name="Turn new-result emails on").click()
    expect(page.get_by_text("New-result emails: now on.")).to_be_visible()
    expect(page.get_by_text("New-result emails: on.")).to_be_visible()
    expect(page.get_by_role("button", name="Turn new-result emails off")).to_be_visible()
    page.get_by_role("button", name="Send a password-reset link").click()
    expect(page.get_by_text("Password-reset link sent: it works once")).to_be_visible()

    _deliver(database_url, smtp_url)
    to_new = [m for m in box.messages if m["To"] == NEW]
    to_old = [m for m in box.messages if m["To"] == PERSON]
    [link_mail] = to_new
    link = re.search(r"/confirm-email\?token=[\w-]+", _body(link_mail)).group(0)
    assert any("change the email address" in _body(m) and NEW not in _body(m) for m in to_old)
    assert any("/reset-password?token=" in _body(m) for m in to_old)
    assert all("HIPAA hotline" in _body(m) for m in box.messages)
    assert _open_sessions(database_url, PERSON) == 1  # nothing changed before confirmation

    # The person opens the link in a browser that is not signed in, and confirms.
    visitor = context.browser.new_context()
    try:
        visiting = visitor.new_page()
        visiting.goto(url + link)
        expect(visiting.get_by_role("heading", name="Confirm your new email address")).to_be_visible()
        expect(visiting.get_by_text(NEW, exact=True)).to_be_visible()
        visiting.get_by_role("button", name="Confirm the new address").click()
        expect(visiting.get_by_text("Your email address is changed")).to_be_visible()
        # The link works once.
        visiting.goto(url + link)
        expect(visiting.get_by_text("This confirmation link is not valid any more")).to_be_visible()
    finally:
        visitor.close()

    # The browser signed in before the change is signed out at its next click.
    their_page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(their_page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    theirs.close()

    # The old address no longer signs in; the new one does, and My account shows the switch.
    fresh = context.browser.new_context()
    try:
        again = fresh.new_page()
        sign_in(again, url, PERSON, succeeds=False)
        expect(again.get_by_text("Sign-in failed")).to_be_visible()
        sign_in(again, url, NEW)
        expect(again.get_by_role("heading", name="Welcome")).to_be_visible()
        again.get_by_test_id("stSidebarNav").get_by_role("link", name="My account").click()
        expect(again.get_by_text(f"User ID (email): {NEW}")).to_be_visible()
        expect(again.get_by_text("New-result emails are on.")).to_be_visible()
    finally:
        fresh.close()

    # Support's screen, after the next search, lists the person under the new address.
    open_support_tools(page, "pat.payor@")
    expect(page.get_by_role("heading", name=re.compile(re.escape(NEW)))).to_be_visible()
