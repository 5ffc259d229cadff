"""An emailed report link opened signed out, as the very first request a server answers: the
sign-in form shows at that address (no "Page not found"), and signing in opens that report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.demo import seed
from tests.e2e.conftest import _start_portal, employer_reports

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fresh_portal(tmp_path_factory):
    """A server no browser has asked anything yet (the shared portal has answered many)."""
    yield from _start_portal(tmp_path_factory.mktemp("fresh"), {})


def test_a_report_link_opened_signed_out_on_a_fresh_server_opens_after_sign_in(fresh_portal, context):
    report = employer_reports(fresh_portal["database_url"])[0]
    page = context.new_page()
    page.goto(f"{fresh_portal['url']}/reports?report={report.id}")
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_role("heading", name="Reports")).to_have_count(0)  # nothing before sign-in

    page.get_by_role("textbox", name="Email address").fill("employer@demo.test")
    page.get_by_role("textbox", name="Password", exact=True).fill(seed.DEMO_PASSWORD)
    with page.expect_navigation(url=lambda address: "/auth/" not in address):
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    assert f"report={report.id}" in page.url
    expect(page.get_by_role("heading", name=f"{report.type_label}, {report.service_date:%Y-%m-%d}")
           ).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)


def test_a_screen_address_the_roles_do_not_allow_shows_no_screen_before_sign_in(fresh_portal, context):
    page = context.new_page()
    page.goto(f"{fresh_portal['url']}/users")
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_role("heading", name="Users")).to_have_count(0)
