"""An employer on a phone (390 x 844): searches, sees who, what and when without scrolling
sideways, and the report opened is the first thing on the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.demo import seed
from tests.e2e.conftest import click_grid_row, employer_reports, grid_box

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def test_employer_on_a_phone_searches_and_reads_a_report_at_the_top(portal, phone, tmp_path):
    newest = employer_reports(portal["database_url"])[0]
    page = phone.new_page()
    # On a phone the sidebar starts folded: wait for the home screen instead of the navigation.
    page.goto(portal["url"])
    page.get_by_role("textbox", name="Email address").fill("employer@demo.test")
    page.get_by_role("textbox", name="Password", exact=True).fill(seed.DEMO_PASSWORD)
    with page.expect_navigation(url=lambda address: "/auth/" not in address):
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    page.goto(portal["url"].rstrip("/") + "/reports")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

    # Before the first search the filters are open; Search folds them away.
    filters = page.get_by_test_id("stExpander").filter(has_text="Filters").locator("details").first
    expect(filters).to_have_attribute("open", "")
    expect(page.get_by_role("textbox", name="Patient name")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Posted").first.click()
    page.get_by_role("option", name="Last 60 days").click()
    page.screenshot(path=str(tmp_path / "phone-filters.png"))
    page.get_by_role("button", name="Search", exact=True).first.click()
    expect(filters).not_to_have_attribute("open", "")
    expect(page.get_by_role("textbox", name="Patient name")).to_be_hidden()

    box = grid_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    page.screenshot(path=str(tmp_path / "phone-results.png"))
    # The grid keeps header cells for assistive technology only for the columns it draws in view:
    # exactly these three means who and when are whole on screen, the type starts beside them
    # and the next column lies beyond the edge.
    headers = page.get_by_test_id("stDataFrame").first.locator("th[role=columnheader]")
    expect(headers.first).to_be_attached()
    titles = [t.strip() for t in headers.all_inner_texts() if t.strip()]
    assert titles == ["Patient", "Posted", "Report type"], titles
    # The page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    click_grid_row(page, 0, box)
    opening = page.get_by_role("button", name="Open report")
    opening.scroll_into_view_if_needed()
    opening.click()
    heading = page.get_by_role("heading", name=f"{newest.type_label}, {newest.service_date:%Y-%m-%d}")
    expect(heading).to_be_visible()
    expect(heading).to_be_in_viewport()
    page.wait_for_timeout(500)  # the page settles; the heading must stay in view
    expect(heading).to_be_in_viewport()
    expect(page.get_by_role("button", name="Close report")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(tmp_path / "phone-report.png"))
