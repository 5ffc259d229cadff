"""A system admin on Settings: changes the support phone (the sign-in screen shows it at once),
publishes new terms of use after a question that says everyone accepts again, and accepts them
first; the next sign-in of any user asks for the new text, and a person already signed in is asked
at their next click."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import TermsAcceptance, TermsVersion, User
from tests.e2e.conftest import _start_portal, settled, sign_in

pytestmark = pytest.mark.browser

NEW_TEXT_LINE = "7. Report a lost or stolen device to support the same day."


@pytest.fixture(scope="module")
def terms_portal(tmp_path_factory):
    """Its own portal: new terms here ask every demo login to accept again."""
    yield from _start_portal(tmp_path_factory.mktemp("terms-publish"), {})


def _accepted(database_url: str, address: str) -> list[str]:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user_id = session.scalar(select(User.id).where(User.email == address))
            return list(session.scalars(select(TermsVersion.version).join(
                TermsAcceptance, TermsAcceptance.terms_version_id == TermsVersion.id)
                .where(TermsAcceptance.user_id == user_id).order_by(TermsVersion.id)))
    finally:
        db.dispose()


def _accept(page: Page) -> None:
    expect(page.get_by_role("heading", name="Terms of use", exact=True)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text(NEW_TEXT_LINE)).to_be_visible()
    expect(page.get_by_text("Version 2027-01.")).to_be_visible()
    accept = page.get_by_role("button", name="Accept and continue")
    expect(accept).to_be_disabled()
    page.get_by_text("I have read and accept the terms of use").click()
    expect(accept).to_be_enabled()
    accept.click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def test_admin_publishes_new_terms_and_the_next_sign_in_asks_for_them(terms_portal, context):
    url, database_url = terms_portal["url"], terms_portal["database_url"]

    # Someone is signed in before the new text exists.
    clinic_context = context.browser.new_context()
    clinic = clinic_context.new_page()
    sign_in(clinic, url, "clinic@demo.test")
    expect(clinic.get_by_role("heading", name="Welcome")).to_be_visible()

    page = context.new_page()
    sign_in(page, url, "admin@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Security configuration")).to_be_visible()
    expect(page.get_by_text("Current version: 2026-11")).to_be_visible()

    # Contact details: a bad phone is refused, a good one saved and shown signed out.
    phone = page.get_by_role("textbox", name="Support phone")
    phone.fill("call us")
    page.get_by_role("button", name="Save contact details").click()
    expect(page.get_by_text("Support phone: a phone number has")).to_be_visible()
    settled(page)
    phone = page.get_by_role("textbox", name="Support phone")
    expect(phone).to_have_value("call us")  # kept, to be corrected
    phone.fill("(713) 555-0123")
    page.get_by_role("button", name="Save contact details").click()
    expect(page.get_by_text("Saved: Support phone.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Support phone")).to_have_value("(713) 555-0123")

    # Publishing asks first, saying what happens to everyone; Cancel publishes nothing.
    settled(page)
    page.get_by_role("textbox", name="Version label").fill("2027-01")
    text = page.get_by_role("textbox", name="Text")
    text.fill(text.input_value() + NEW_TEXT_LINE + "\n")
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Version 2027-01 becomes the terms of use at once.")).to_be_visible()
    expect(dialog.get_by_text("Everyone, you included, must accept it")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Current version: 2026-11")).to_be_visible()
    page.get_by_role("button", name="Publish…").click()
    page.get_by_role("dialog").get_by_role("button", name="Publish").click()

    # The admin is asked first, then back on Settings sees the history.
    _accept(page)
    assert _accepted(database_url, "admin@demo.test") == ["2026-11", "2027-01"]
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Settings").click()
    expect(page.get_by_text("Current version: 2027-01")).to_be_visible()
    expect(page.get_by_text("Published version 2027-01.")).to_be_visible()

    # The person signed in before is asked at their next click.
    clinic.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    _accept(clinic)
    clinic_context.close()

    # The next sign-in of anyone asks for the new text; the sign-in screen shows the new phone.
    fresh = context.browser.new_context()
    try:
        other = fresh.new_page()
        other.goto(url)
        expect(other.locator("small", has_text="Support: (713) 555-0123 (")).to_be_visible()
        other.get_by_text("Having trouble signing in?").click()
        trouble = other.get_by_test_id("stExpanderDetails")
        expect(trouble.get_by_text("your account locks for 30 minutes")).to_be_visible()
        expect(trouble.get_by_text("(713) 555-0123, Monday to Friday")).to_be_visible()
        # Signed in, the terms come alone: no other screen is offered until they are accepted.
        sign_in(other, url, "employer@demo.test", succeeds=False)
        expect(other.get_by_role("heading", name="Terms of use", exact=True)).to_be_visible()
        expect(other.get_by_test_id("stSidebarNav")).to_have_count(0)
        _accept(other)
        assert _accepted(database_url, "employer@demo.test") == ["2026-11", "2027-01"]
    finally:
        fresh.close()
