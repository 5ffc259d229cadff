"""A manager opens the Dashboard in Chromium: the volume chart draws the demo data, and its
table downloads as CSV with the same numbers and no patient in it."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from db.engine import Database
from db.models import Patient
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_manager_sees_the_volume_chart_and_downloads_its_table(portal, context, tmp_path):
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1200})
    sign_in(page, portal["url"], "manager@demo.test")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Reports posted")).to_be_visible()

    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    expect(chart.locator("canvas, svg").first).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] > 500 and box["height"] > 250
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert not page.get_by_test_id("stException").count()

    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            patients = {value for row in session.execute(select(
                Patient.first_name, Patient.last_name, Patient.employee_id)) for value in row}
    finally:
        db.dispose()
    reports_posted = page.get_by_test_id("stMetric").filter(has_text="Reports posted")
    shown_total = int(reports_posted.get_by_test_id("stMetricValue").inner_text().replace(",", ""))
    assert shown_total > 0

    with page.expect_download() as download:
        page.get_by_role("button", name="Download volume (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Week starting" and len(rows) > 2
    assert sum(int(cell) for row in rows[1:] for cell in row[1:]) == shown_total
    assert not {cell for row in rows for cell in row} & patients

    page.get_by_role("tab", name="Adoption").click()
    expect(page.get_by_role("heading", name="Opened within 3 days of posting")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(3)
    assert not page.get_by_test_id("stException").count()
