"""The privacy officer answers a patient's request for an accounting of disclosures: finds the
demo patient, produces the accounting for the last six years, downloads it as PDF and CSV, and
the files say exactly what the service says (every line, in order)."""

from __future__ import annotations

import csv
import io
from datetime import timezone

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from db.engine import Database
from db.models import Patient, Report
from services.privacy import disclosure_files, disclosures
from services.reports import access, search
from services.reports.search import ReportFilter
from tests.conftest import principal_of
from tests.e2e.conftest import _start_portal, choose_option, settled, sign_in

pytestmark = pytest.mark.browser

_CHOSEN: dict = {}


def _open_one_report(db: Database) -> None:
    """The employer opens and downloads one of its reports: lines with a named person."""
    employer = principal_of(db, "employer@demo.test")
    report_id = search.search(db, employer, ReportFilter(), with_count=False).rows[0].id
    access.open_report(db, employer, report_id)
    access.pdf_bytes(db, employer, report_id, blob_store=_blobs(db))
    with db.transaction(write=False) as session:
        patient = session.get(Patient, session.scalar(select(Report.patient_id)
                                                      .where(Report.id == report_id)))
        _CHOSEN.update(patient_id=patient.id, employee_id=patient.employee_id,
                       last_name=patient.last_name, report_id=report_id)


def _blobs(db: Database):
    from pathlib import Path

    from db.blob_store import BlobStore
    return BlobStore(Path(db.url.database).parent / "blobs")


@pytest.fixture(scope="module")
def disclosures_portal(tmp_path_factory):
    """A portal of its own: the openings made here would show in other files' audit trails."""
    yield from _start_portal(tmp_path_factory.mktemp("disclosures"), {}, _open_one_report)


def _expected(portal: dict) -> disclosures.Accounting:
    """What the service says now, for the same patient and the default period."""
    db = Database(portal["database_url"])
    try:
        return disclosures.account(db, principal_of(db, "privacy@demo.test"),
                                   patient_id=_CHOSEN["patient_id"])
    finally:
        db.dispose()


def test_the_privacy_officer_produces_and_downloads_a_patients_accounting(
        disclosures_portal, context, tmp_path):
    page = context.new_page()
    page.set_viewport_size({"width": 1600, "height": 1100})
    sign_in(page, disclosures_portal["url"], "privacy@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Accounting of disclosures").click()
    expect(page.get_by_role("heading", name="Accounting of disclosures")).to_be_visible()

    # Nothing typed: told what to give, nothing listed.
    page.get_by_role("button", name="Find patient").click()
    expect(page.get_by_test_id("stAlert").filter(
        has_text="Give the patient's name, date of birth or employee ID.")).to_be_visible()

    page.get_by_role("textbox", name="Employee ID").fill(_CHOSEN["employee_id"])
    page.get_by_role("button", name="Find patient").click()
    settled(page)
    option = next(iter(_labels(disclosures_portal)))
    choose_option(page, page.get_by_role("combobox", name="Patient"), option)
    settled(page)
    page.get_by_role("button", name="Produce the accounting").click()
    settled(page)
    expect(page.get_by_role("heading", name="Accounting of disclosures").nth(1)).to_be_visible()
    cells = page.get_by_test_id("stDataFrame").locator("td[role=gridcell]")
    expect(cells.filter(has_text="Opened").first).to_be_attached()
    page.screenshot(path=str(tmp_path / "accounting.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = download.value
    assert pdf.suggested_filename.startswith(
        f"accounting-of-disclosures_patient-{_CHOSEN['patient_id']}_")
    assert _CHOSEN["last_name"] not in pdf.suggested_filename
    reader = PdfReader(pdf.path())
    text = "\n".join(page_.extract_text() for page_ in reader.pages)

    expected = _expected(disclosures_portal)
    assert expected.lines, "the employer's opening and download are in the accounting"
    assert "ResultsDesk: Accounting of disclosures" in text
    assert expected.patient_name in text
    assert f"{expected.start:%Y-%m-%d} to {expected.end:%Y-%m-%d}" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    # Every line of the service's accounting, in its order, and no other.
    at = 0
    for line in expected.lines:
        found = text.find(disclosure_files.when(expected, line.at), at)
        assert found >= 0, line
        assert f"Report {line.report_id}" in text[found:found + 400]
        at = found
    assert sum(text.count(w) for w in ("Opened", "Previewed")) == sum(
        line.what in ("Opened", "Previewed") for line in expected.lines)
    assert ("Opened", _CHOSEN["report_id"]) in {(line.what, line.report_id) for line in expected.lines}

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    expected = _expected(disclosures_portal)
    assert rows[0] == list(disclosure_files.CSV_HEADER)
    assert [(r[0], int(r[1]), r[3], r[4], r[5]) for r in rows[1:]] == [
        (line.at.astimezone(timezone.utc).isoformat(), line.report_id, line.what, line.account,
         line.person) for line in expected.lines]

    # Each production and download is in the audit trail, with the patient's id only.
    db = Database(disclosures_portal["database_url"])
    try:
        from db.models import AuditEvent
        with db.transaction(write=False) as session:
            outputs = session.scalars(select(AuditEvent.details).where(
                AuditEvent.action == "disclosures.accounted",
                AuditEvent.target_id == str(_CHOSEN["patient_id"])).order_by(AuditEvent.id)).all()
    finally:
        db.dispose()
    # The screen's, the PDF's, this test's own, the CSV's, this test's own again.
    assert [d["output"] for d in outputs] == ["screen", "pdf", "screen", "csv", "screen"]
    assert all(_CHOSEN["last_name"] not in str(d) for d in outputs)


def _labels(portal: dict) -> list[str]:
    db = Database(portal["database_url"])
    try:
        return [_label(match) for match in disclosures.find_patients(
            db, principal_of(db, "privacy@demo.test"), employee_id=_CHOSEN["employee_id"])]
    finally:
        db.dispose()


def _label(match) -> str:
    from pages.screens.disclosures import _label as label
    return label(match)
