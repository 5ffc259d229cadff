"""The session cookie is the server's (HttpOnly), its hand-off code works once, and every response
the portal serves carries the security headers, without any proxy in front."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from pages.common.security_headers import HEADERS
from pages.common.session_cookie import COOKIE_NAME
from tests.e2e.conftest import employer_reports, first_with_preview, sign_in

pytestmark = pytest.mark.browser

WELCOME = {"name": "Welcome", "exact": True}


def _assert_security_headers(response, what):
    headers = response.headers  # Playwright gives lower-case names
    for name, value in HEADERS.items():
        assert headers.get(name.lower()) == value, f"{what}: {name}"


def test_no_script_can_read_the_session_cookie(portal, context):
    page = context.new_page()
    sign_in(page, portal["url"], "privacy@demo.test")
    expect(page.get_by_role("heading", **WELCOME)).to_be_visible()
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["expires"] == -1  # a browser-session cookie
    assert cookie["value"] not in page.evaluate("document.cookie")
    assert COOKIE_NAME not in page.evaluate("document.cookie")


def test_a_replayed_hand_off_code_gets_no_cookie(portal, browser, context):
    page = context.new_page()
    posted = []
    page.on("request", lambda request: posted.append(request.post_data)
            if request.url.endswith("/auth/session") else None)
    sign_in(page, portal["url"], "privacy@demo.test")
    expect(page.get_by_role("heading", **WELCOME)).to_be_visible()
    [form] = posted
    code = parse_qs(form)["code"][0]

    other = browser.new_context()
    try:
        replay = other.request.post(f"{portal['url']}/auth/session", form={"code": code, "next": "/"},
                                    headers={"Origin": portal["url"]}, max_redirects=0)
        assert replay.status == 303 and replay.headers["location"] == "/?notice=sign-in-expired"
        assert "set-cookie" not in replay.headers
        assert [c for c in other.cookies() if c["name"] == COOKIE_NAME] == []
        # A browser sent there sees the sign-in screen with the generic notice.
        replayed = other.new_page()
        replayed.goto(f"{portal['url']}/?notice=sign-in-expired")
        expect(replayed.get_by_text("That sign-in link has expired or was already used.")).to_be_visible()
        # Another site's form cannot post a code either.
        forged = other.request.post(f"{portal['url']}/auth/session", form={"code": code},
                                    headers={"Origin": "https://elsewhere.test"}, max_redirects=0)
        assert forged.status == 403
    finally:
        other.close()


def test_the_page_static_files_and_media_carry_the_security_headers(portal, context):
    reports = employer_reports(portal["database_url"])
    newest = reports[first_with_preview(portal["database_url"], reports)]
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    first = page.goto(portal["url"])
    _assert_security_headers(first, "the page")
    sign_in(page, portal["url"], "employer@demo.test")
    expect(page.get_by_role("heading", **WELCOME)).to_be_visible()
    page.goto(f"{portal['url']}/reports?report={newest.id}")
    picture = page.get_by_test_id("stImage").locator("img")
    expect(picture).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"

    static = [r for r in responses if "/static/" in r.url]
    media = [r for r in responses if "/media/" in r.url]
    assert static and media
    _assert_security_headers(static[0], "a static file")
    for response in media:
        _assert_security_headers(response, response.url)
    pdf = page.request.get(download.value.url)
    assert pdf.headers["content-type"].startswith("application/pdf")
    _assert_security_headers(pdf, "the PDF")


def test_sign_out_signs_out_every_tab_on_reload(portal, context):
    url = portal["url"]
    first, second = context.new_page(), context.new_page()
    sign_in(first, url, "manager@demo.test")
    expect(first.get_by_role("heading", **WELCOME)).to_be_visible()
    second.goto(url)
    expect(second.get_by_role("heading", **WELCOME)).to_be_visible()
    first.reload()
    expect(first.get_by_role("heading", **WELCOME)).to_be_visible()  # a reload keeps you signed in

    second.get_by_role("button", name="Sign out").click()
    expect(second.get_by_text("You have signed out.")).to_be_visible()
    assert [c for c in context.cookies() if c["name"] == COOKIE_NAME] == []
    first.reload()
    expect(first.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
