"""support@demo.test on the Reports screen: no patient is listed until a purpose is chosen, the
list shows once it is, and after a visit to another screen the question comes back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from db.models import AuditEvent
from tests.e2e.conftest import choose_option, settled, sign_in, stored

pytestmark = pytest.mark.browser
QUESTION = "Why are you looking at patients' reports?"


def _nav(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    settled(page)


def _searches(portal: dict) -> int:
    return stored(portal, select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_email == "support@demo.test", AuditEvent.action == "reports.searched"))


def _asked_with_no_rows(page: Page) -> None:
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name=QUESTION)).to_be_visible()
    expect(page.get_by_text("Choose a purpose to see the reports.", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    expect(page.get_by_role("button", name="Search", exact=True)).to_have_count(0)


def test_support_chooses_a_purpose_before_patients_are_listed_on_each_visit(portal, context):
    before = _searches(portal)
    page = context.new_page()
    sign_in(page, portal["url"], "support@demo.test")
    _nav(page, "Reports")
    _asked_with_no_rows(page)
    assert _searches(portal) == before

    page.get_by_role("textbox", name="Ticket reference").fill("SR-2041")
    page.keyboard.press("Tab")
    choose_option(page, page.get_by_role("combobox", name=QUESTION),
                  "Support request from the client or clinic")
    settled(page)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    expect(page.get_by_text(re.compile(r"results · showing 1–\d+"))).to_be_visible()
    expect(grid.locator("td[role=gridcell]").first).to_be_attached()
    assert _searches(portal) == before + 1

    _nav(page, "Users")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    _nav(page, "Reports")
    _asked_with_no_rows(page)
    expect(page.get_by_role("combobox", name=QUESTION)).to_have_value("")
    choose_option(page, page.get_by_role("combobox", name=QUESTION), "Quality or compliance review")
    settled(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    assert _searches(portal) == before + 2
