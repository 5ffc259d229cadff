"""Opening, previewing and downloading reports, one by one and as bundles, as the user gets them:
the stored bytes under a file name without the patient's name, a real PNG preview, ZIPs and
merged PDFs that hold exactly the chosen reports, the bulk-download cap, and one audit event
per report handed out."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from db.models import REPORT_TYPES, Report, ReportPreview
from services import audit
from services.errors import InvalidInput
from services.reports import access, bundles
from services.reports.access import STAFF_PURPOSES
from tests.services.report_world import (
    PATIENTS,
    SPEC,
    events,
    expect_denial,
    reads,
)


def _file_name(world, key: str) -> str:
    spec = SPEC[key]
    return f"{spec.report_type}_{spec.service_date:%Y-%m-%d}_report-{world.report[key]}.pdf"


def _no_patient_name(text: str) -> None:
    lowered = text.lower()
    for first, last, *_ in PATIENTS.values():
        assert first.lower() not in lowered and last.lower() not in lowered, text


def _report_events(db):
    return [e for e in events(db) if e.action.startswith("report")]


# --- one report ------------------------------------------------------------------------------

def test_download_returns_the_stored_pdf_under_a_name_without_the_patient(db, world):
    acme = world.principal("acme_user")
    report_id = world.report["acme_injury"]
    name, data = access.pdf_bytes(world.db, acme, report_id, blob_store=world.store)
    assert data == world.pdf["acme_injury"]
    assert name == f"injury_status_2026-10-03_report-{report_id}.pdf" == _file_name(world, "acme_injury")
    _no_patient_name(name)
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
        report_id, "injury_status", REPORT_TYPES["injury_status"])
    assert (detail.patient_name, detail.employee_id, detail.date_of_birth) == (
        "Smith, John", "E200", date(1975, 2, 3))
    assert (detail.service_date, detail.status, detail.injury, detail.state) == (
        date(2026, 10, 3), "available", True, "OK")
    assert (detail.provider_name, detail.page_count, detail.file_size) == (
        "Northside East", 2, len(world.pdf["acme_injury"]))
    assert detail.file_name == _file_name(world, "acme_injury")
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
    bundles.build(world.db, support, [world.report["acme_archived"]], bundle_format="zip",
                         blob_store=world.store, staff_purpose=why)
    access.redeliver(world.db, support, world.report["acme_archived"])
    written = {e.action for e in events(world.db)}
    assert written == {"report.opened", "report.downloaded", "report.previewed",
                       "report.redelivered"}
    assert written <= set(audit.ACTIONS)


# --- bundles ---------------------------------------------------------------------------------

BUNDLE = ("acme_ccf", "acme_injury", "acme_first_notice")  # 1 + 2 + 3 pages


def _build(world, user_key, keys, bundle_format, **kwargs):
    calls = []
    bundle = bundles.build(world.db, world.principal(user_key),
                                  [world.report[k] for k in keys], bundle_format=bundle_format,
                                  blob_store=world.store,
                                  progress=lambda done, total: calls.append((done, total)), **kwargs)
    return bundle, calls


def test_zip_bundle_holds_exactly_the_chosen_pdfs_stored_uncompressed(db, world):
    bundle, calls = _build(world, "acme_user", BUNDLE, "zip")
    assert (bundle.mime_type, bundle.report_count) == ("application/zip", 3)
    assert bundle.file_name.startswith("reports_") and bundle.file_name.endswith("_3.zip")
    archive = zipfile.ZipFile(io.BytesIO(bundle.data))
    assert archive.testzip() is None
    infos = archive.infolist()
    assert [info.compress_type for info in infos] == [zipfile.ZIP_STORED] * 3
    assert [info.filename for info in infos] == [_file_name(world, k) for k in BUNDLE]
    for key in BUNDLE:
        assert archive.read(_file_name(world, key)) == world.pdf[key]
        _no_patient_name(_file_name(world, key))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_merged_pdf_has_every_page_and_one_bookmark_per_report(db, world):
    bundle, calls = _build(world, "acme_user", BUNDLE, "pdf")
    assert (bundle.mime_type, bundle.report_count) == ("application/pdf", 3)
    assert bundle.file_name.endswith("_3.pdf")
    reader = PdfReader(io.BytesIO(bundle.data))
    assert len(reader.pages) == sum(SPEC[k].pages for k in BUNDLE) == 6
    outline = reader.outline
    assert len(outline) == 3 and not any(isinstance(item, list) for item in outline)
    titles = [item.title for item in outline]
    for title, key in zip(titles, BUNDLE, strict=True):
        assert title.endswith(f"report {world.report[key]}")
        assert REPORT_TYPES[SPEC[key].report_type] in title
        _no_patient_name(title)
    # Each bookmark points at the first page of its report.
    assert [reader.get_destination_page_number(item) for item in outline] == [0, 1, 3]
    assert calls == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("bundle_format", ["zip", "pdf"])
def test_each_report_in_a_bundle_is_audited_and_becomes_read(db, world, bundle_format):
    acme = world.principal("acme_user")
    _build(world, "acme_user", BUNDLE, bundle_format)
    downloaded = _report_events(world.db)
    assert [e.action for e in downloaded] == ["report.downloaded"] * 3
    assert sorted(int(e.target_id) for e in downloaded) == sorted(world.ids(*BUNDLE))
    assert {e.actor_user_id for e in downloaded} == {acme.user_id}
    assert all(e.details == {"bundle": bundle_format, "bundle_size": 3} for e in downloaded)
    assert reads(world.db, acme.user_id) == world.ids(*BUNDLE)
    assert reads(world.db, world.user["acme_user2"]) == set()


def test_a_repeated_id_is_packed_once(db, world):
    ids = [world.report["acme_ccf"], world.report["acme_injury"], world.report["acme_ccf"]]
    bundle = bundles.build(world.db, world.principal("acme_user"), ids,
                                  bundle_format="zip", blob_store=world.store)
    assert bundle.report_count == 2
    assert len(zipfile.ZipFile(io.BytesIO(bundle.data)).infolist()) == 2
    assert len(events(world.db, "report.downloaded")) == 2


def test_staff_bundle_carries_the_purpose(db, world):
    why = access.purpose(STAFF_PURPOSES[3], "QA-7")
    _build(world, "privacy", ("acme_withdrawn", "globex_ccf"), "zip", staff_purpose=why)
    downloaded = events(world.db, "report.downloaded")
    assert len(downloaded) == 2
    assert all(e.details == {"purpose": STAFF_PURPOSES[3], "reference": "QA-7", "bundle": "zip",
                             "bundle_size": 2} for e in downloaded)


def test_an_empty_selection_or_unknown_format_is_refused(db, world):
    acme = world.principal("acme_user")
    with pytest.raises(InvalidInput, match="at least one report"):
        bundles.build(world.db, acme, [], bundle_format="zip", blob_store=world.store)
    with pytest.raises(InvalidInput, match="ZIP or merged PDF"):
        bundles.build(world.db, acme, [world.report["acme_ccf"]], bundle_format="tar",
                             blob_store=world.store)
    assert _report_events(world.db) == [] and reads(world.db, acme.user_id) == set()


# --- the bulk-download cap -------------------------------------------------------------------

@pytest.mark.parametrize("bundle_format", ["zip", "pdf"])
def test_too_many_reports_are_refused_before_anything_is_handed_out(db, world, monkeypatch,
                                                                    bundle_format):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_REPORTS", "2")
    acme = world.principal("acme_user")
    with pytest.raises(InvalidInput, match=r"at most 2 reports; 3 are selected"):
        _build(world, "acme_user", BUNDLE, bundle_format)
    assert _report_events(world.db) == [] and reads(world.db, acme.user_id) == set()
    bundle, _ = _build(world, "acme_user", BUNDLE[:2], bundle_format)  # at the cap: fine
    assert bundle.report_count == 2


def _set_file_size(world, key: str, size: int) -> None:
    with world.db.transaction() as session:
        session.get(Report, world.report[key]).file_size = size


@pytest.mark.parametrize("bundle_format", ["zip", "pdf"])
def test_too_many_megabytes_are_refused_before_anything_is_handed_out(db, world, monkeypatch,
                                                                      bundle_format):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_MB", "1")
    for key in BUNDLE:
        _set_file_size(world, key, 600 * 1024)  # what the database says, not the tiny test file
    acme = world.principal("acme_user")
    with pytest.raises(InvalidInput, match=r"at most 1 MB"):
        _build(world, "acme_user", BUNDLE[:2], bundle_format)
    assert _report_events(world.db) == [] and reads(world.db, acme.user_id) == set()
    bundle, _ = _build(world, "acme_user", BUNDLE[:1], bundle_format)
    assert bundle.report_count == 1


def test_a_tiny_megabyte_cap_refuses_even_small_files(db, world, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_MB", "0.0001")  # about 100 bytes
    with pytest.raises(InvalidInput, match="at most 1 KB"):
        _build(world, "acme_user", BUNDLE[:1], "zip")
    assert _report_events(world.db) == []


def test_the_size_cap_message_names_the_configured_limit(db, world, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_MB", "0.5")
    _set_file_size(world, "acme_ccf", 400 * 1024)
    _set_file_size(world, "acme_injury", 400 * 1024)
    with pytest.raises(InvalidInput) as refused:
        _build(world, "acme_user", BUNDLE[:2], "zip")
    assert "at most 0.5 MB; the selected reports come to 0.8 MB" in str(refused.value)


@pytest.mark.parametrize("bundle_format", ["zip", "pdf"])
def test_a_report_withdrawn_while_packing_refuses_the_bundle(db, world, monkeypatch, bundle_format):
    """The scope is checked again when the bundle is handed out: a report that left the user's
    view while the PDFs were being read is refused, and nothing is recorded as downloaded."""
    acme = world.principal("acme_user")
    withdrawn = world.report["acme_injury"]
    read_pdf = world.store.get

    def read_and_withdraw(sha256):
        with world.db.transaction() as session:
            session.get(Report, withdrawn).status = "withdrawn"
        return read_pdf(sha256)

    monkeypatch.setattr(world.store, "get", read_and_withdraw)
    expect_denial(world.db, acme,
                  lambda: bundles.build(world.db, acme, [world.report[k] for k in BUNDLE],
                                               bundle_format=bundle_format, blob_store=world.store),
                  target_type="report", target_id=withdrawn)
    assert _report_events(world.db) == []
