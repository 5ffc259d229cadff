"""An employer ticks reports under "New", opens one, closes it, flags another as received in
error: each time the list changes, no tick moves onto another patient, and the buttons act only
on the reports ticked. Then a report is found by its number, and the grid offers no CSV."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Incident, Report, User
from services import principals
from services.reports import search
from tests.e2e.conftest import (
    click_grid_row,
    grid_box,
    open_report_filters,
    remove_from_view,
    report_filters,
    settled,
    sign_in,
)

pytestmark = pytest.mark.browser

EMPLOYER = "employer@demo.test"


@pytest.fixture
def wide_page(browser):
    # Wide enough that the grid draws every column, "Report #" included, for assistive technology.
    context = browser.new_context(viewport={"width": 1900, "height": 1200})
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def _employer_search(database_url: str, report_filter: search.ReportFilter) -> search.ReportPage:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.email == EMPLOYER))
            principal = principals.load(session, user)
        return search.search(db, principal, report_filter)
    finally:
        db.dispose()


def _grid(page: Page):
    return page.get_by_test_id("stDataFrame").first


def _tick_first_row(page: Page) -> None:
    click_grid_row(page, 0, grid_box(page, _grid(page)))


def _column(page: Page, title: str) -> str:
    header = _grid(page).locator("th[role=columnheader]", has_text=title).first
    return header.get_attribute("aria-colindex")


def _first_report_number(page: Page) -> int:
    """The Report # of the grid's first row, read from the grid's cells for assistive technology."""
    column = _column(page, "Report #")
    cell = _grid(page).locator(f"tbody tr[aria-rowindex='2'] td[aria-colindex='{column}']")
    return int(cell.inner_text())


def _ticked(page: Page, count: int) -> list[int]:
    """Report numbers of the rows the grid shows ticked, once it shows `count` of them."""
    column = _column(page, "Report #")
    rows = _grid(page).locator("tbody tr[aria-selected=true]")
    expect(rows).to_have_count(count)
    return [int(row.locator(f"td[aria-colindex='{column}']").inner_text()) for row in rows.all()]


def _expect_nothing_ticked(page: Page, left: int | None) -> None:
    """Nothing ticked; `left` is the report the screen says just left the list (None: no note)."""
    expect(_grid(page).locator("tbody tr[aria-rowindex='2']")).to_be_attached()
    expect(_grid(page).locator("tbody tr[aria-selected=true]")).to_have_count(0)
    expect(page.get_by_role("button", name="Open report")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Download \d"))).to_have_count(0)
    if left is not None:
        expect(page.get_by_text(f"Report {left} is no longer in this list, so no longer selected.")
               ).to_be_visible()
    expect(page.get_by_text("Select one report to open it")).to_be_visible()


def _expect_count(page: Page, results: int) -> None:
    noun = "result" if results == 1 else "results"
    expect(page.get_by_text(re.compile(rf"^{results} {noun} · showing"))).to_be_visible()


def _open_ticked(page: Page, report: search.ReportRow) -> None:
    page.get_by_role("button", name="Open report").click()
    expect(page.get_by_role("heading", name=f"{report.type_label}, {report.service_date:%Y-%m-%d}")
           ).to_be_visible()
    expect(page.get_by_text(f"{report.type_label} · report {report.id}")).to_be_visible()


def _search(page: Page, *, show: str, number: str = "", refused: bool = False) -> None:
    """Search from the filters; a search folds them away, a refused one keeps them open."""
    open_report_filters(page)
    form = page.get_by_test_id("stForm")
    form.get_by_test_id("stRadio").filter(has_text="New (not opened by me)").get_by_text(
        show, exact=True).click()
    form.get_by_role("textbox", name="Report #").fill(number)
    form.get_by_role("button", name="Search", exact=True).click()
    if not refused:
        expect(report_filters(page)).not_to_have_attribute("open", "")


def test_ticks_follow_reports_when_the_new_list_changes(portal, wide_page):
    url, database_url = portal["url"], portal["database_url"]
    new = _employer_search(database_url, search.ReportFilter(read="new"))
    assert len(new.rows) >= 3, "the demo gives the employer at least three unopened reports"
    first, second, third = new.rows[:3]
    page = wide_page

    sign_in(page, url, EMPLOYER)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    _search(page, show="New (not opened by me)")
    _expect_count(page, new.count)
    expect(_grid(page).locator("tbody tr[aria-rowindex='2']")).to_be_attached()
    assert _first_report_number(page) == first.id

    # Tick row 1, open it: the first report is what both buttons name. Opened (above the list),
    # it leaves "New" at once; row 1 is now another patient, unticked. Then the same again on
    # the report that moved up, after closing the first.
    for opened, (report, following) in enumerate([(first, second), (second, third)], start=1):
        if opened == 2:
            page.get_by_role("button", name="Close report").click()
            expect(page.get_by_role("button", name="Close report")).to_have_count(0)
            _expect_nothing_ticked(page, None)
            assert _first_report_number(page) == report.id
        _tick_first_row(page)
        expect(page.get_by_role("button", name="Download 1 report", exact=True)).to_be_visible()
        assert _ticked(page, 1) == [report.id]
        _open_ticked(page, report)
        _expect_nothing_ticked(page, report.id)
        _expect_count(page, new.count - opened)
        assert _first_report_number(page) == following.id

    # Received in error: it leaves the view, and still no tick lands on the next patient.
    settled(page)
    page.get_by_text("I received this in error").click()
    remove_from_view(page)
    _expect_nothing_ticked(page, None)
    _expect_count(page, new.count - 2)
    assert _first_report_number(page) == third.id

    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            flagged = set(session.scalars(select(Incident.report_id)))
    finally:
        db.dispose()
    assert second.id in flagged and not {first.id, third.id} & flagged


def test_a_report_is_found_by_number_and_the_grid_offers_no_csv(portal, wide_page):
    url, database_url = portal["url"], portal["database_url"]
    mine = _employer_search(database_url, search.ReportFilter()).rows[-1]
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            every = session.scalars(select(Report.id).order_by(Report.id.desc())).all()
    finally:
        db.dispose()
    not_mine = next(report_id for report_id in every if not _employer_search(
        database_url, search.ReportFilter(report_id=report_id)).rows)
    page = wide_page

    sign_in(page, url, EMPLOYER)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    _search(page, show="All", number=f"#{mine.id}")
    _expect_count(page, 1)
    assert _first_report_number(page) == mine.id
    expect(_grid(page).locator("tbody tr[role=row]")).to_have_count(1)

    # The grid's toolbar offers search and fullscreen, never a client-side download.
    _grid(page).hover()
    toolbar = page.get_by_test_id("stElementToolbar").first
    expect(toolbar.get_by_role("button", name="Fullscreen")).to_be_visible()
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)
    expect(page.get_by_label("Download as CSV")).to_have_count(0)

    # Another account's report, by number, looks exactly like one that does not exist.
    _search(page, show="All", number=str(not_mine))
    expect(page.get_by_text("No reports match. Widen the dates or clear a filter.")).to_be_visible()
    _search(page, show="All", number=str(every[0] + 1000))
    expect(page.get_by_text("No reports match. Widen the dates or clear a filter.")).to_be_visible()
    _search(page, show="All", number="49x", refused=True)
    expect(page.get_by_text("A report number is digits only, for example 4992.")).to_be_visible()


def test_one_click_unticks_a_report_still_ticked_after_it_was_closed(portal, wide_page):
    """The list of every report keeps its rows when one opens above it and closes again: the
    tick stays on that report, and the person's first click on it takes it off."""
    url, database_url = portal["url"], portal["database_url"]
    second = _employer_search(database_url, search.ReportFilter()).rows[1]
    page = wide_page
    sign_in(page, url, EMPLOYER)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_text("Select one report to open it")).to_be_visible()
    settled(page)
    click_grid_row(page, 1, grid_box(page, _grid(page)))
    assert _ticked(page, 1) == [second.id]
    _open_ticked(page, second)
    settled(page)
    page.get_by_role("button", name="Close report").click()
    expect(page.get_by_role("button", name="Close report")).to_have_count(0)
    settled(page)
    assert _ticked(page, 1) == [second.id]
    expect(page.get_by_role("button", name="Open report")).to_be_enabled()

    click_grid_row(page, 1, grid_box(page, _grid(page)))
    expect(page.get_by_text("Select one report to open it")).to_be_visible()
    _ticked(page, 0)
