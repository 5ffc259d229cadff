"""An employer saves a Reports search as "Drug tests", sees on Home how many reports are new in
it, opens it back onto Reports (which then shows its filter and its results, not the search
done since), and deletes it after the question."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Account, AccountMembership, Report, SavedSearch, User
from services import principals
from services.reports import search
from tests.e2e.conftest import (
    choose_option,
    employer_reports,
    open_report_filters,
    settled,
    sign_in,
)
from tests.services.report_world import add_report

pytestmark = pytest.mark.browser

NAME = "Drug tests"


def _open(page: Page, link: str, heading: str) -> None:
    settled(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    settled(page)


def _type_count(database_url: str, report_type: str) -> int:
    """How many reports of one type employer@demo.test finds (through the search service)."""
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.email == "employer@demo.test"))
            principal = principals.load(session, user)
        return search.count(db, principal, search.ReportFilter(report_types=(report_type,)))[0]
    finally:
        db.dispose()


def _shows_the_count_of(page: Page, database_url: str, report_type: str) -> None:
    shown = ""
    for _ in range(40):
        wanted = _type_count(database_url, report_type)
        shown = page.get_by_text(" · showing 1–").first.inner_text()
        if shown.startswith(f"{wanted} result"):
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"the count line says {shown!r}; the search finds {wanted}")


def _close_popover(page: Page) -> None:
    """Close "Save this search" as a person does: Escape, or its button again if that missed."""
    name_field = page.get_by_role("textbox", name="Name this search")
    for _ in range(3):
        page.keyboard.press("Escape")
        try:
            expect(name_field).to_be_hidden(timeout=3_000)
            break
        except AssertionError:
            page.get_by_role("button", name="Save this search").click()
            if not name_field.is_visible():
                break
    expect(name_field).to_be_hidden()
    settled(page)


def _search_by_type(page: Page, label: str) -> None:
    """Reports: add a report type to the filter and search."""
    open_report_filters(page)
    choose_option(page, page.get_by_role("combobox", name="Report type"), label)
    page.keyboard.press("Escape")
    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()
    settled(page)


def _deliver_one(database_url: str, report_type: str) -> None:
    """A report of that type for the employer's account, delivered now."""
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            account_id = session.scalar(
                select(AccountMembership.account_id).join(User, User.id == AccountMembership.user_id)
                .join(Account, Account.id == AccountMembership.account_id)
                .where(User.email == "employer@demo.test", Account.kind == "employer"))
            sample = session.scalars(select(Report).where(Report.report_type == report_type)
                                     .order_by(Report.id)).first()
        add_report(db, report_type=report_type, patient_id=sample.patient_id,
                   provider_id=sample.provider_id, posted_at=datetime.now(timezone.utc),
                   recipients=(account_id,), label="saved-search-walk")
    finally:
        db.dispose()


def test_employer_saves_a_search_sees_it_on_home_opens_it_and_deletes_it(portal, context):
    visible = employer_reports(portal["database_url"])
    kinds = Counter((row.report_type, row.type_label) for row in visible).most_common()
    (report_type, label), _ = kinds[0]
    other_label = kinds[1][0][1]

    page = context.new_page()
    sign_in(page, portal["url"], "employer@demo.test")
    _open(page, "Reports", "Reports")
    _search_by_type(page, label)
    # The count follows the rows into this line ("Counting the results" first).
    expect(page.get_by_text(re.compile(r"^\d[\d,]* results? · showing 1–"))).to_be_visible()

    page.get_by_role("button", name="Save this search").click()
    page.get_by_role("textbox", name="Name this search").fill(NAME)
    page.get_by_role("button", name="Save search").click()
    expect(page.get_by_text("Search saved: Home lists it under Saved searches.")).to_be_visible()
    settled(page)

    # Another search since (both types): opening the saved one must bring its own filter back.
    _close_popover(page)
    _search_by_type(page, other_label)
    expect(page.get_by_test_id("stMultiSelect").first).to_contain_text(other_label)

    _deliver_one(portal["database_url"], report_type)
    _open(page, "Home", "Welcome")
    expect(page.get_by_role("heading", name="Saved searches")).to_be_visible()
    line = page.locator(".st-key-saved_search_" + _saved_id(portal["database_url"]))
    expect(line.get_by_text(NAME, exact=True)).to_be_visible()
    expect(line.get_by_text("1 new since you last looked")).to_be_visible()

    line.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    settled(page)
    # Its own count, as the service gives it now: the archive job of a freshly started portal
    # may archive reports past 60 days meanwhile, so the number is asked, not assumed.
    _shows_the_count_of(page, portal["database_url"], report_type)
    open_report_filters(page)
    chosen = page.get_by_test_id("stMultiSelect").first
    expect(chosen).to_contain_text(label)
    expect(chosen).not_to_contain_text(other_label)

    _open(page, "Home", "Welcome")
    line = page.locator(".st-key-saved_search_" + _saved_id(portal["database_url"]))
    expect(line.get_by_text("0 new since you last looked")).to_be_visible()
    line.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"Delete the saved search “{NAME}”?")).to_be_visible()
    dialog.get_by_role("button", name="Delete saved search").click()
    expect(page.get_by_text("Saved search deleted.")).to_be_visible()
    expect(page.get_by_text("None yet.", exact=False)).to_be_visible()
    expect(page.get_by_text(NAME, exact=True)).to_have_count(0)


def _saved_id(database_url: str) -> str:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            return str(session.scalar(select(SavedSearch.id).where(SavedSearch.name == NAME)))
    finally:
        db.dispose()
