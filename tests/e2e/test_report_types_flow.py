"""A payor user's Reports screen offers only the report types a payor account receives; an
employer user's offers every type."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from db.engine import Database
from services.reports import report_types
from tests.e2e.conftest import settled, sign_in

pytestmark = pytest.mark.browser


def _offered_types(page: Page) -> list[str]:
    """The labels the Reports screen's type filter lists when opened."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
    box = page.get_by_role("combobox", name="Report type")
    expect(box).to_be_visible()
    box.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    labels = options.all_inner_texts()
    page.keyboard.press("Escape")
    # The list opens with Streamlit's own "Select all" entry, which is no report type.
    assert labels[0] == "Select all"
    return labels[1:]


def _listed(database_url: str) -> list[report_types.ReportTypeInfo]:
    """The portal's report type list, as its database holds it."""
    db = Database(database_url)
    try:
        return report_types.all_types(db)
    finally:
        db.dispose()


def _labels(database_url: str, kind: str) -> list[str]:
    return [t.name for t in _listed(database_url) if not t.retired and t.standard_for(kind)]


def test_a_payor_is_offered_only_the_types_payors_receive(portal, context):
    page = context.new_page()
    sign_in(page, portal["url"], "payor@demo.test")
    offered = _offered_types(page)
    assert offered == _labels(portal["database_url"], "payor")
    # The employer letters never reach a payor, so they are not there to search for.
    names = {t.code: t.name for t in _listed(portal["database_url"])}
    assert names["recheck_reminder"] not in offered
    assert names["first_notice"] not in offered


def test_an_employer_is_offered_every_type(portal, context):
    page = context.new_page()
    sign_in(page, portal["url"], "employer@demo.test")
    assert _offered_types(page) == [t.name for t in _listed(portal["database_url"])]


def test_a_payor_finds_the_post_accident_tests_of_its_claims(portal, context):
    """ATF and CCF are on a payor's list because post-accident tests reach the claim's payor: the
    demo sends some, so choosing the type finds them instead of 'No reports match'."""
    page = context.new_page()
    sign_in(page, portal["url"], "payor@demo.test")
    _offered_types(page)
    page.get_by_role("combobox", name="Report type").click()
    ccf = next(t.name for t in _listed(portal["database_url"]) if t.code == "ccf")
    page.get_by_role("option", name=ccf).click()
    page.keyboard.press("Escape")
    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()
    settled(page)
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_have_count(1)
    expect(grid).to_be_visible()
    expect(page.get_by_text("No reports match")).to_have_count(0)
    expect(page.get_by_text("results ·").or_(page.get_by_text("result ·"))).to_be_visible()
