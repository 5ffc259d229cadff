"""Client users in Denver walk Reports: a report link followed before signing in, the New list
shrinking as reports are opened, a download of several named by their own clock, and a report
received in error leaving the list.

Its own portal: the walk opens and removes reports, which the shared portal's other walks read."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from services.demo import seed
from tests.e2e.conftest import (_chromium, _start_portal, click_grid_row, employer_reports,
                                grid_box, open_report_filters, remove_from_view, settled,
                                sign_in)

pytestmark = pytest.mark.browser
DENVER = "America/Denver"


@pytest.fixture(scope="module")
def own_portal(tmp_path_factory):
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("client-walk"), {})


@pytest.fixture
def denver(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id=DENVER)
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def _count_line(page: Page):
    return page.get_by_text(re.compile(r"results? · showing"))


def _search(page: Page, show: str) -> None:
    open_report_filters(page)
    page.get_by_test_id("stForm").get_by_text(show, exact=True).click()
    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()


def test_a_report_link_opened_signed_out_opens_that_report_after_signing_in(own_portal, denver):
    url = own_portal["url"].rstrip("/")
    report = employer_reports(own_portal["database_url"])[1]
    page = denver.new_page()
    page.goto(f"{url}/reports?report={report.id}")
    expect(page.get_by_role("heading", name="Sign in to ResultsDesk")).to_be_visible()
    page.get_by_role("textbox", name="Email address").fill("employer@demo.test")
    page.get_by_role("textbox", name="Password", exact=True).fill(seed.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"{report.type_label}, {report.service_date:%Y-%m-%d}")
           ).to_be_visible()
    posted = report.posted_at.astimezone(ZoneInfo(DENVER)).strftime("%Y-%m-%d %H:%M %Z")
    assert posted.endswith((" MST", " MDT"))
    expect(page.get_by_role("cell", name=posted, exact=True)).to_be_visible()


def test_new_list_shrinks_and_a_download_of_several_is_named_in_local_time(own_portal, denver):
    page = denver.new_page()
    sign_in(page, own_portal["url"], "payor@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    _search(page, "New (not opened by me)")
    expect(_count_line(page)).to_be_visible()
    before = int(_count_line(page).inner_text().split()[0])
    assert before >= 3

    click_grid_row(page, 0)
    page.get_by_role("button", name="Open report").click()
    page.get_by_role("button", name="Close report").click()
    expect(_count_line(page)).to_have_text(re.compile(rf"^{before - 1} results? · showing"))

    box = grid_box(page)
    click_grid_row(page, 0, box)
    click_grid_row(page, 1, box)
    # Two ticked: opening cannot apply, and the screen says why.
    expect(page.get_by_role("button", name="Open report")).to_be_disabled()
    expect(page.get_by_text("Open one report at a time: tick just one.")).to_be_visible()
    expect(page.get_by_text("2 reports · ", exact=False)).to_be_visible()
    page.get_by_role("button", name="Download 2 reports", exact=True).click()
    save = page.get_by_role("link", name=re.compile(r"^Save reports_.*_2\.zip$"))
    expect(save).to_be_visible()
    stamp = re.search(r"reports_(\d{4}-\d{2}-\d{2}_\d{6})_2", save.inner_text()).group(1)
    named = datetime.strptime(stamp, "%Y-%m-%d_%H%M%S").replace(tzinfo=ZoneInfo(DENVER))
    # Denver is seven hours or six behind UTC: a name in UTC would be hours off.
    assert abs(datetime.now(ZoneInfo(DENVER)) - named) < timedelta(minutes=5), stamp


def test_a_report_received_in_error_leaves_the_list(own_portal, denver):
    page = denver.new_page()
    sign_in(page, own_portal["url"], "employer@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(_count_line(page)).to_be_visible()
    before = int(_count_line(page).inner_text().split()[0])
    click_grid_row(page, 0)
    page.get_by_role("button", name="Open report").click()
    heading = page.get_by_role("heading", level=2).first
    expect(heading).to_be_visible()
    removed = heading.inner_text()
    settled(page)
    page.get_by_test_id("stExpander").filter(has_text="I received this in error").locator("summary").click()
    remove_from_view(page)
    expect(page.get_by_role("button", name="Close report")).to_be_hidden()
    expect(_count_line(page)).to_have_text(re.compile(rf"^{before - 1} results? · showing"))
    expect(page.get_by_text("Select one report to open it")).to_be_visible()  # nothing ticked
    assert removed


def test_home_names_a_single_new_report_in_the_singular(own_portal, denver):
    # Opens the TPA's new reports until one is left, then looks at Home.
    page = denver.new_page()
    sign_in(page, own_portal["url"], "tpa@demo.test")
    note = page.get_by_text(re.compile(r"^You have \d+ new reports?"))
    expect(note).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    _search(page, "New (not opened by me)")
    expect(_count_line(page)).to_be_visible()
    left = int(_count_line(page).inner_text().split()[0])
    while left > 1:
        click_grid_row(page, 0)
        page.get_by_role("button", name="Open report").click()
        page.get_by_role("button", name="Close report").click()
        left -= 1
        expect(_count_line(page)).to_have_text(re.compile(rf"^{left} results? · showing"))
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
    expect(page.get_by_text("You have 1 new report: it is marked New on the Reports screen.",
                            exact=True)).to_be_visible()


def test_a_downloaded_report_loses_its_new_mark_once_saved(own_portal, denver):
    page = denver.new_page()
    sign_in(page, own_portal["url"], "employer@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(_count_line(page)).to_be_visible()
    marks = page.get_by_test_id("stDataFrame").locator("tbody td").filter(has_text=re.compile(r"^New$"))
    expect(marks.first).to_be_attached()
    before = marks.count()
    new_row = page.get_by_test_id("stDataFrame").locator("tbody tr").filter(
        has=page.locator("td").filter(has_text=re.compile(r"^New$"))).first
    click_grid_row(page, int(new_row.get_attribute("aria-rowindex")) - 2)  # 1 is the header
    page.get_by_role("button", name="Download 1 report", exact=True).click()
    save = page.get_by_role("link", name=re.compile(r"^Save reports_.*_1\.zip$"))
    expect(save).to_be_visible()
    # Making the link opens nothing: the report is still new until its file is sent.
    expect(marks).to_have_count(before)
    with page.expect_download() as download:
        save.click()
    assert download.value.suggested_filename.endswith("_1.zip")
    # Saving it counts as opening it: the grid says so without another click, and the
    # screen offers a new download (the link worked once).
    expect(marks).to_have_count(before - 1)
    expect(page.get_by_role("button", name="Download 1 report", exact=True)).to_be_visible()
