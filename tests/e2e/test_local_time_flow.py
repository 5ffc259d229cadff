"""A person in Chicago signs in for the first time and sees times in Central time; they pick
New York on My account and every time follows; signing in from a browser elsewhere keeps it.

Its own portal: the test stores a person's time zone, which the shared portal's other walks
should not inherit."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import User
from tests.e2e.conftest import _chromium, _start_portal, employer_reports, sign_in

pytestmark = pytest.mark.browser
EMAIL = "employer@demo.test"


@pytest.fixture(scope="module")
def own_portal(tmp_path_factory):
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("local-time"), {})


def _stored_zone(database_url: str) -> str | None:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            return session.scalar(select(User.time_zone).where(User.email == EMAIL))
    finally:
        db.dispose()


def _posted(page: Page, url: str, report) -> None:
    page.goto(f"{url}/reports?report={report.id}")
    expect(page.get_by_role("button", name="Close report")).to_be_visible()


def _as_seen_in(report, zone: str) -> str:
    return report.posted_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def test_times_follow_the_browsers_zone_then_the_one_picked(own_portal, browser):
    url, database_url = own_portal["url"], own_portal["database_url"]
    report = employer_reports(database_url)[0]
    assert _stored_zone(database_url) is None

    chicago = browser.new_context(timezone_id="America/Chicago")
    chicago.set_default_timeout(20_000)
    page = chicago.new_page()
    sign_in(page, url, EMAIL)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert _stored_zone(database_url) == "America/Chicago"

    central = _as_seen_in(report, "America/Chicago")
    assert central.endswith((" CST", " CDT"))
    _posted(page, url, report)
    expect(page.get_by_role("cell", name=central, exact=True)).to_be_visible()

    # My account: the sessions list is in Central time too, and the picker shows the zone.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    cells = page.get_by_test_id("stDataFrame").last.locator("td[role=gridcell]")
    expect(cells.filter(has_text=re.compile(r" C[SD]T$")).first).to_be_attached()
    expect(cells.filter(has_text=re.compile(r" UTC$"))).to_have_count(0)
    picker = page.get_by_role("combobox", name="Show times in")
    expect(picker).to_have_value("America/Chicago")

    picker.click()
    page.keyboard.type("America/New_Y")
    page.get_by_role("option", name="America/New_York", exact=True).click()
    expect(page.get_by_text("Times are now shown in America/New_York.")).to_be_visible()
    assert _stored_zone(database_url) == "America/New_York"
    expect(cells.filter(has_text=re.compile(r" E[SD]T$")).first).to_be_attached()
    expect(cells.filter(has_text=re.compile(r" C[SD]T$"))).to_have_count(0)

    eastern = _as_seen_in(report, "America/New_York")
    _posted(page, url, report)
    expect(page.get_by_role("cell", name=eastern, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=central, exact=True)).to_have_count(0)
    chicago.close()

    # From a browser in London the stored choice still holds.
    london = browser.new_context(timezone_id="Europe/London")
    london.set_default_timeout(20_000)
    page = london.new_page()
    sign_in(page, url, EMAIL)
    _posted(page, url, report)
    expect(page.get_by_role("cell", name=eastern, exact=True)).to_be_visible()
    assert _stored_zone(database_url) == "America/New_York"
    london.close()
