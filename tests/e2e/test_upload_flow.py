"""A provider group admin posts a batch with a CSV manifest: the good files post, the bad ones say
why, and a file whose first page cannot be drawn is posted with the reason it has no preview.
A batch that partly failed is a warning with its counts, and the pickers are empty afterwards."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Provider, ProviderGroup, Report
from services.demo import seed
from tests.e2e.conftest import sign_in
from tests.fixtures.bad_pdfs import (
    fan_out_xobjects_pdf,
    self_drawing_xobject_pdf,
    text_renamed_pdf,
    valid_pdf,
)

pytestmark = pytest.mark.browser

COLUMNS = ("file,report_type,provider_npi,service_date,patient_last_name,patient_first_name,"
           "patient_date_of_birth,employee_id,employer,injury,claim_number,claim_payer")


def test_group_admin_posts_a_batch_with_a_manifest(portal, context, tmp_path):
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            npi = session.scalar(select(Provider.npi).join(ProviderGroup)
                                 .where(ProviderGroup.name == seed._GROUPS[0][0])
                                 .order_by(Provider.id))
            before = session.scalar(select(Report.id).order_by(Report.id.desc()))
    finally:
        db.dispose()
    (tmp_path / "visit-0001.pdf").write_bytes(valid_pdf(2))
    (tmp_path / "notes.pdf").write_bytes(text_renamed_pdf())
    # Eleven draws per level: not the bytes another browser test posts for the same group.
    (tmp_path / "fan-out.pdf").write_bytes(fan_out_xobjects_pdf(fan=11))
    (tmp_path / "loop.pdf").write_bytes(self_drawing_xobject_pdf())
    (tmp_path / "manifest.csv").write_text("\n".join([
        COLUMNS,
        f"visit-0001.pdf,ccf,{npi},2026-11-02,Upload,Tessa,1990-02-03,EUP001,{seed._EMPLOYERS[0]},no,,",
        f"notes.pdf,atf,{npi},2026-11-02,Upload,Tom,1991-02-03,EUP002,{seed._EMPLOYERS[0]},no,,",
        f"fan-out.pdf,ccf,{npi},2026-11-02,Upload,Fay,1992-02-03,EUP003,{seed._EMPLOYERS[0]},no,,",
        f"loop.pdf,ccf,{npi},2026-11-02,Upload,Lou,1993-02-03,EUP004,{seed._EMPLOYERS[0]},no,,",
    ]) + "\n")

    page = context.new_page()
    sign_in(page, portal["url"], "groupadmin@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Upload reports").click()
    expect(page.get_by_role("heading", name="Upload reports")).to_be_visible()
    pdfs = page.get_by_role("region", name="Report PDFs").locator("input[type=file]")
    pdfs.set_input_files([tmp_path / name for name in
                          ("visit-0001.pdf", "notes.pdf", "fan-out.pdf", "loop.pdf")])
    # The PDFs' arrival reruns the screen (it offers the details table); a file handed to the
    # manifest box while that rerun redraws the page can be lost.
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    manifest = page.get_by_role("region", name="Details from a CSV manifest (optional)")
    manifest.locator("input[type=file]").set_input_files(tmp_path / "manifest.csv")
    # Until the manifest has arrived the screen offers the details table instead; posting then
    # would (rightly) reject both files for missing details.
    expect(page.get_by_text("manifest.csv")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.get_by_role("button", name="Post 4 reports").click()
    expect(page.get_by_role("heading", name="Last upload")).to_be_visible()
    expect(_alert(page, "Warning").filter(
        has_text="2 posted, 2 rejected; 1 posted without a preview")).to_be_visible()

    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            posted = session.scalars(select(Report).where(Report.id > before)).all()
    finally:
        db.dispose()
    assert [(r.report_type, r.page_count) for r in posted] == [("ccf", 2), ("ccf", 1)]
    grid = page.get_by_test_id("stDataFrame").last
    expect(grid).to_be_visible()
    # The reason is in the results grid (a canvas); its cells are exposed to assistive tech.
    expect(page.get_by_text("This is not a PDF file", exact=False)).to_have_count(1)
    expect(page.get_by_text("draws a part of itself inside itself", exact=False)).to_have_count(1)
    expect(page.get_by_text("Posted, but no preview: ", exact=False)).to_have_count(1)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _alert(page: Page, kind: str) -> Locator:
    """The message boxes of one kind on the screen ('Warning', 'Success', 'Error')."""
    return page.get_by_test_id("stAlertContainer").filter(
        has=page.get_by_test_id(f"stAlertContent{kind}"))


def _npi(database_url: str) -> str:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            return session.scalar(select(Provider.npi).join(ProviderGroup)
                                  .where(ProviderGroup.name == seed._GROUPS[0][0])
                                  .order_by(Provider.id))
    finally:
        db.dispose()


def test_a_partly_rejected_batch_says_so_and_the_pickers_are_empty_after_it(portal, context,
                                                                             tmp_path):
    npi = _npi(portal["database_url"])
    log = portal["log"]
    log_before = log.stat().st_size
    (tmp_path / "mixed-good.pdf").write_bytes(valid_pdf(3))
    (tmp_path / "mixed-bad.pdf").write_bytes(text_renamed_pdf())
    (tmp_path / "mixed.csv").write_text("\n".join([
        COLUMNS,
        f"mixed-good.pdf,atf,{npi},2026-11-03,Mixed,Gina,1990-05-06,EUM001,{seed._EMPLOYERS[0]},no,,",
        f"mixed-bad.pdf,atf,{npi},2026-11-03,Mixed,Bert,1991-05-06,EUM002,{seed._EMPLOYERS[0]},no,,",
    ]) + "\n")

    page = context.new_page()
    sign_in(page, portal["url"], "groupadmin@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Upload reports").click()
    expect(page.get_by_role("heading", name="Upload reports")).to_be_visible()
    pdf_picker = page.get_by_role("region", name="Report PDFs")
    manifest_picker = page.get_by_role("region", name="Details from a CSV manifest (optional)")
    pdf_picker.locator("input[type=file]").set_input_files(
        [tmp_path / "mixed-good.pdf", tmp_path / "mixed-bad.pdf"])
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    manifest_picker.locator("input[type=file]").set_input_files(tmp_path / "mixed.csv")
    expect(page.get_by_text("mixed.csv")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.get_by_role("button", name="Post 2 reports").click()

    expect(page.get_by_role("heading", name="Last upload")).to_be_visible()
    # A warning with the counts: neither a success nor an error for a batch that partly posted.
    expect(_alert(page, "Warning").filter(has_text="1 posted, 1 rejected")).to_be_visible()
    expect(_alert(page, "Success")).to_have_count(0)
    expect(_alert(page, "Error")).to_have_count(0)
    # The results table is drawn (with the posted report's number) and explains the rejection.
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
    expect(page.get_by_text("This is not a PDF file", exact=False)).to_have_count(1)
    # Nothing left in either picker, and so nothing to post again.
    expect(pdf_picker.get_by_test_id("stFileChip")).to_have_count(0)
    expect(manifest_picker.get_by_test_id("stFileChip")).to_have_count(0)
    expect(page.get_by_role("button", name="Post 2 reports")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    with open(log, "rb") as output:
        output.seek(log_before)
        written = output.read().decode(errors="replace")
    assert "ArrowInvalid" not in written and "Traceback" not in written, written[-3000:]
