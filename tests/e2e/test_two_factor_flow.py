"""Two-factor sign-in walked in Chromium: a clinic admin, whose role requires it, sets up an
authenticator app from the QR code at sign-in, keeps the recovery codes, signs out, signs in
with a code, is refused the same code again, gets in once with a recovery code; "Remember me"
keeps only the email address; support resets a lost phone."""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import User
from services.demo import seed
from services.identity import two_factor
from tests.e2e.conftest import _chromium, _start_portal, open_support_tools, settled, sign_in

pytestmark = pytest.mark.browser

CLINIC_ADMIN = "clinicadmin@demo.test"


@pytest.fixture(scope="module")
def two_factor_portal(tmp_path_factory):
    """A portal where clinic admins must use a second factor (the demo's default is nobody)."""
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("two-factor"),
                             {"RESULTSDESK_TWO_FACTOR_ROLES": "provider_admin,provider_group_admin"})


def _password_step(page: Page, url: str, email: str, *, remember: bool = False) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    page.get_by_role("textbox", name="Email address").fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(seed.DEMO_PASSWORD)
    if remember:
        page.get_by_text("Remember me").click()
    page.get_by_role("button", name="Sign in").click()


def _type_code(page: Page, label: str, code: str, *, signs_in: bool) -> None:
    page.get_by_role("textbox", name=label).fill(code)
    if not signs_in:
        page.get_by_role("button", name="Continue", exact=True).click()
        return
    with page.expect_navigation(url=lambda address: "/auth/" not in address):
        page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def _secret_from_qr(page: Page, email: str = CLINIC_ADMIN) -> str:
    """Read the QR code the way a phone does: from the picture, not from the page's text."""
    picture = page.get_by_test_id("stImage").locator("img")
    expect(picture).to_be_visible()
    png = page.request.get(picture.get_attribute("src")).body()
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    uri = urlsplit(found.text)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert uri.path.replace("%40", "@") == f"/ResultsDesk:{email}"
    query = parse_qs(uri.query)
    assert query["issuer"] == ["ResultsDesk"]
    return query["secret"][0]


def test_a_clinic_admin_sets_up_signs_in_with_codes_and_a_recovery_code(two_factor_portal, context):
    url = two_factor_portal["url"]
    page = context.new_page()
    _password_step(page, url, CLINIC_ADMIN)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    # Nothing of the portal before this step is done: only the signed-out screens are listed.
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    secret = _secret_from_qr(page)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    expect(page.get_by_text(grouped)).to_be_visible()  # the key for typing by hand is the same
    app = pyotp.TOTP(secret)

    page.get_by_role("textbox", name="Code from the app").fill("000000" if app.now() != "000000" else "111111")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_text("That code did not work")).to_be_visible()
    page.get_by_role("textbox", name="Code from the app").fill(app.now())
    page.get_by_role("button", name="Continue", exact=True).click()

    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.get_by_test_id("stCode").inner_text().split()
    assert len(codes) == 10 and all(len(code) == 19 for code in codes)
    going_on = page.get_by_role("button", name="Continue to ResultsDesk")
    expect(going_on).to_be_disabled()  # not before the codes are saved
    page.get_by_text("I have saved my recovery codes").click()
    expect(going_on).to_be_enabled()
    with page.expect_navigation(url=lambda address: "/auth/" not in address):
        going_on.click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    _sign_out(page)

    # The code of the next 30 seconds: the phone may run ahead by one step.
    ahead = app.at(time.time() + 30)
    _password_step(page, url, CLINIC_ADMIN)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    _type_code(page, "Code from your authenticator app", ahead, signs_in=True)
    _sign_out(page)

    _password_step(page, url, CLINIC_ADMIN)
    _type_code(page, "Code from your authenticator app", ahead, signs_in=False)
    expect(page.get_by_text("That code did not work")).to_be_visible()
    _type_code(page, "Code from your authenticator app", codes[0], signs_in=True)
    _sign_out(page)

    _password_step(page, url, CLINIC_ADMIN)
    _type_code(page, "Code from your authenticator app", codes[0], signs_in=False)
    expect(page.get_by_text("That code did not work")).to_be_visible()
    page.get_by_role("button", name="Start again").click()
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()


def test_remember_me_keeps_only_the_email_address(two_factor_portal, context):
    url = two_factor_portal["url"]
    page = context.new_page()
    _password_step(page, url, "clinic@demo.test", remember=True)  # provider staff: no code asked
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    _sign_out(page)
    page.goto(url)
    expect(page.get_by_role("textbox", name="Email address")).to_have_value("clinic@demo.test")
    expect(page.get_by_role("textbox", name="Password", exact=True)).to_have_value("")
    expect(page.get_by_role("checkbox", name="Remember me")).to_be_checked()
    kept = {c["name"]: c for c in context.cookies()}["resultsdesk_email"]
    assert kept["httpOnly"] and "clinic" not in kept["value"]  # encoded, and only the address
    assert "resultsdesk_session" not in {c["name"] for c in context.cookies()}  # no session kept

    # Unticked at the next sign-in: the address is forgotten.
    page.get_by_role("textbox", name="Password", exact=True).fill(seed.DEMO_PASSWORD)
    page.get_by_text("Remember me").click()
    with page.expect_navigation(url=lambda address: "/auth/" not in address):
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert "resultsdesk_email" not in {c["name"] for c in context.cookies()}


def _without_second_factor(portal: dict, email: str) -> None:
    """Start from no app set up, as support's reset leaves it: a walk run again after failing
    half-way found the app of its first attempt and was asked for a code instead."""
    db = Database(portal["database_url"])
    try:
        with db.transaction() as session:
            two_factor.remove(session, session.scalar(select(User.id).where(User.email == email)))
    finally:
        db.dispose()


def test_support_resets_a_lost_phone_and_the_admin_sets_up_again(two_factor_portal, context):
    url = two_factor_portal["url"]
    _without_second_factor(two_factor_portal, "groupadmin@demo.test")
    admin = context.new_page()
    _password_step(admin, url, "groupadmin@demo.test")
    secret = _secret_from_qr(admin, "groupadmin@demo.test")
    admin.get_by_role("textbox", name="Code from the app").fill(pyotp.TOTP(secret).now())
    admin.get_by_role("button", name="Continue", exact=True).click()
    admin.get_by_text("I have saved my recovery codes").click()
    with admin.expect_navigation(url=lambda address: "/auth/" not in address):
        admin.get_by_role("button", name="Continue to ResultsDesk").click()
    expect(admin.get_by_role("heading", name="Welcome")).to_be_visible()

    support = context.browser.new_context().new_page()
    sign_in(support, url, "support@demo.test")
    support.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
    expect(support.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    settled(support)
    open_support_tools(support, "groupadmin@demo.test")
    expect(support.get_by_text("Two-factor sign-in: on.", exact=False)).to_be_visible()
    support.get_by_role("button", name="Reset two-factor sign-in").click()
    dialog = support.get_by_role("dialog")
    expect(dialog.get_by_text("stop working at once", exact=False)).to_be_visible()
    dialog.get_by_role("button", name="Reset", exact=True).click()
    expect(support.get_by_text("Two-factor sign-in reset: done.")).to_be_visible()
    expect(support.get_by_text("Two-factor sign-in: off.")).to_be_visible()

    admin.reload()  # the reset ended the admin's sessions
    expect(admin.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    _password_step(admin, url, "groupadmin@demo.test")
    expect(admin.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    assert _secret_from_qr(admin, "groupadmin@demo.test") != secret


def test_an_employer_turns_it_on_in_my_account_and_off_again(two_factor_portal, context):
    url = two_factor_portal["url"]
    page = context.new_page()
    sign_in(page, url, "employer@demo.test")  # no role of theirs requires it
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    settled(page)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    secret = _secret_from_qr(page, "employer@demo.test")
    app = pyotp.TOTP(secret)
    page.get_by_role("textbox", name="Code from the app").fill(app.now())
    page.get_by_role("button", name="Turn on", exact=True).click()
    expect(page.get_by_text("They are shown only now", exact=False)).to_be_visible()
    codes = page.get_by_test_id("stCode").inner_text().split()
    assert len(codes) == 10
    expect(page.get_by_text("On: you sign in with your password and a code", exact=False)).to_be_visible()
    expect(page.get_by_text("Recovery codes left: 10 of 10", exact=False)).to_be_visible()
    _sign_out(page)

    _password_step(page, url, "employer@demo.test")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    _type_code(page, "Code from your authenticator app", codes[9], signs_in=True)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="My account").click()
    expect(page.get_by_text("Recovery codes left: 9 of 10", exact=False)).to_be_visible()
    settled(page)
    # The code shown while turning it on was used then: the next one.
    page.get_by_role("textbox", name="A code from your app (or a recovery code)").fill(
        app.at(time.time() + 30))
    page.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(page.get_by_text("Two-factor sign-in is off.")).to_be_visible()
    expect(page.get_by_role("button", name="Turn on two-factor sign-in")).to_be_visible()
    _sign_out(page)
    sign_in(page, url, "employer@demo.test")  # the password alone again
