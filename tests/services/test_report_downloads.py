"""Opening, previewing and downloading reports one by one, as the user gets them: the stored bytes
under a file name without the patient's name, a real PNG preview, and one audit event per report
handed out. Bundles of many reports: tests/services/test_bundle_links.py."""

from __future__ import annotations

import struct
from datetime import date

from sqlalchemy import update

from db.models import Report, ReportPreview
from services import audit
from services.reports import access, report_types
from services.reports.access import STAFF_PURPOSES
from tests.services.report_world import (
    download_bundle,
    events,
    file_name_of,
    no_patient_name,
    reads,
)


def _report_events(db):
    return [e for e in events(db) if e.action.startswith("report")]


# --- one report ------------------------------------------------------------------------------

def test_download_returns_the_stored_pdf_under_a_name_without_the_patient(db, world):
    acme = world.principal("acme_user")
    report_id = world.report["acme_injury"]
    name, data = access.pdf_bytes(world.db, acme, report_id, blob_store=world.store)
    assert data == world.pdf["acme_injury"]
    assert name == f"injury_status_2026-10-03_report-{report_id}.pdf" == file_name_of(world, "acme_injury")
    no_patient_name(name)
    [event] = _report_events(world.db)
    assert (event.action, event.outcome, event.actor_user_id, event.actor_email) == (
        "report.downloaded", "success", acme.user_id, "acme_user@x.test")
    assert (event.target_type, event.target_id, event.details) == ("report", str(report_id), {})
    assert reads(world.db, acme.user_id) == {report_id}


def test_open_report_shows_details_and_is_audited(db, world):
    acme = world.principal("acme_user")
    report_id = world.report["acme_injury"]
    detail = access.open_report(world.db, acme, report_id)
    assert (detail.id, detail.report_type, detail.type_label) == (
        report_id, "injury_status", report_types.names(world.db)["injury_status"])
    assert (detail.patient_name, detail.employee_id, detail.date_of_birth) == (
        "Smith, John", "E200", date(1975, 2, 3))
    assert (detail.service_date, detail.status, detail.injury, detail.state) == (
        date(2026, 10, 3), "available", True, "OK")
    assert (detail.provider_name, detail.page_count, detail.file_size) == (
        "Northside East", 2, len(world.pdf["acme_injury"]))
    assert detail.file_name == file_name_of(world, "acme_injury")
    # The report also went to Payco Mutual: an Acme user learns only about Acme.
    assert detail.recipients == ("Acme Freight",)
    [event] = _report_events(world.db)
    assert (event.action, event.target_type, event.target_id, event.actor_user_id) == (
        "report.opened", "report", str(report_id), acme.user_id)
    assert reads(world.db, acme.user_id) == {report_id}


def test_recipients_each_side_is_allowed_to_know(db, world):
    report_id = world.report["acme_injury"]
    assert access.open_report(world.db, world.principal("payco_user"), report_id) \
        .recipients == ("Payco Mutual",)
    assert access.open_report(world.db, world.principal("acme_and_payco"), report_id) \
        .recipients == ("Acme Freight", "Payco Mutual")
    assert access.open_report(world.db, world.principal("support"), report_id) \
        .recipients == ("Acme Freight", "Payco Mutual")


def test_preview_is_the_stored_png_of_the_first_page_and_is_audited(db, world):
    acme = world.principal("acme_user")
    report_id = world.report["acme_first_notice"]  # three pages
    page = access.first_page(world.db, acme, report_id, blob_store=world.store)
    assert page.png is not None and page.png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", page.png[16:24])
    assert width == 900 and height > width  # A4 portrait
    again = access.first_page(world.db, acme, report_id, blob_store=world.store)
    assert again.png == page.png
    previewed = _report_events(world.db)
    assert [(e.action, e.target_id) for e in previewed] == [("report.previewed", str(report_id))] * 2
    assert reads(world.db, acme.user_id) == {report_id}


def test_a_report_without_a_picture_says_so_and_its_pdf_still_downloads(db, world):
    acme = world.principal("acme_user")
    report_id = world.report["acme_ccf"]
    with world.db.transaction() as session:
        sha256 = session.get(Report, report_id).file_sha256
        session.execute(update(ReportPreview).where(ReportPreview.file_sha256 == sha256)
                        .values(status="failed", reason="Drawing the first page took too long."))
    page = access.first_page(world.db, acme, report_id, blob_store=world.store)
    assert page.png is None and page.reason == "Drawing the first page took too long."
    assert _report_events(world.db) == []  # nothing was shown, so nothing is audited as seen
    name, data = access.pdf_bytes(world.db, acme, report_id, blob_store=world.store)
    assert data.startswith(b"%PDF-") and name.endswith(".pdf")


def test_every_report_action_written_is_offered_on_the_audit_page(db, world):
    acme, support = world.principal("acme_user"), world.principal("support")
    why = access.purpose(STAFF_PURPOSES[1])
    access.open_report(world.db, acme, world.report["acme_ccf"])
    access.pdf_bytes(world.db, acme, world.report["acme_ccf"], blob_store=world.store)
    access.first_page(world.db, acme, world.report["acme_ccf"], blob_store=world.store)
    download_bundle(world, support, [world.report["acme_archived"]], staff_purpose=why)
    access.redeliver(world.db, support, world.report["acme_archived"])
    written = {e.action for e in events(world.db)}
    assert written == {"report.opened", "report.downloaded", "report.previewed",
                       "report.redelivered", "bundle.link_created", "bundle.completed"}
    assert written <= set(audit.ACTIONS)
