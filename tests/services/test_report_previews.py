"""First-page pictures: drawn only in a limited child, within a pixel cap, with a clear reason
when they cannot be drawn; crafted files are refused at upload or posted without a preview;
`make previews` draws what is missing once, even when several copies run at once."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from db.blob_store import BlobStore
from db.models import Report, ReportPreview
from services.reports import _pdf_preview as pdf_preview
from services.reports import access, pdf_check
from services.reports import previews as report_previews
from services.reports.ingest import ingest
from tests.fixtures import bad_pdfs
from tests.services.report_world import pdf_for
from tests.services.test_report_ingest import build_desk, count, preview_of, upload

LIMITS = pdf_preview.Limits(seconds=10, memory_mb=512)
PROJECT = Path(__file__).resolve().parents[2]


def size_of(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


# --- the drawing child -----------------------------------------------------------------------

def test_an_ordinary_report_is_drawn_900_pixels_wide():
    preview = pdf_preview.render(bad_pdfs.valid_pdf(), limits=LIMITS)
    assert preview.ok and preview.reason == ""
    width, height = size_of(preview.png)
    assert width == 900 and height > width


def test_a_page_ten_times_taller_than_wide_fits_the_pixel_cap():
    preview = pdf_preview.render(bad_pdfs.extreme_page_pdf(300, 3000), limits=LIMITS)
    assert preview.ok
    assert size_of(preview.png) == (200, 2000)
    wide = pdf_preview.render(bad_pdfs.extreme_page_pdf(14_000, 100), limits=LIMITS)
    assert wide.ok and max(size_of(wide.png)) <= pdf_preview.MAX_SIDE


def test_a_self_drawing_form_is_stopped_by_the_limits_with_a_reason():
    started = time.monotonic()
    preview = pdf_preview.render(bad_pdfs.self_drawing_xobject_pdf(), limits=LIMITS)
    assert time.monotonic() - started < 15
    assert not preview.ok
    assert "512 MB" in preview.reason or "too complex" in preview.reason


def test_a_fan_out_of_forms_is_stopped_by_the_limits_with_a_reason():
    preview = pdf_preview.render(bad_pdfs.fan_out_xobjects_pdf(), limits=LIMITS)
    assert not preview.ok
    assert "512 MB" in preview.reason or "too complex" in preview.reason


def test_a_huge_image_gives_a_bounded_picture_or_a_reason():
    preview = pdf_preview.render(bad_pdfs.huge_image_pdf(), limits=LIMITS)
    if preview.ok:
        assert max(size_of(preview.png)) <= pdf_preview.MAX_SIDE
    else:
        assert preview.reason


def test_the_wall_clock_limit_ends_the_child_with_a_reason():
    # Starting an interpreter and PDFium alone takes longer than this.
    preview = pdf_preview.render(bad_pdfs.valid_pdf(),
                                 limits=pdf_preview.Limits(seconds=0.01, memory_mb=512))
    assert not preview.ok
    assert preview.reason.startswith("Drawing the first page took longer than 0.01 seconds")


def test_a_file_pdfium_cannot_read_gets_a_reason():
    preview = pdf_preview.render(bad_pdfs.truncated_pdf(), limits=LIMITS)
    assert (preview.ok, preview.reason) == (False, "The PDF renderer could not read this file's first page.")


def test_a_killed_or_crashed_child_and_one_out_of_memory_each_get_a_reason():
    cpu = pdf_preview._death_reason(-signal.SIGXCPU, LIMITS, 11)
    killed = pdf_preview._death_reason(-signal.SIGKILL, LIMITS, 11)
    crashed = pdf_preview._death_reason(1, LIMITS, 11)
    memory = pdf_preview._reason({"outcome": "memory"}, LIMITS)
    assert "11 seconds of processor time" in cpu
    assert "512 MB" in killed and "512 MB" in memory
    assert crashed == pdf_preview.CRASHED
    # A real child killed from outside, mid-way: its answer is cut off, so it is a failure.
    assert pdf_preview._answers(b'{"outcome": "ok", "bytes": 5000}\n\x89PNG', LIMITS) == []


def test_a_shared_child_that_dies_costs_no_other_file_its_picture():
    files = [bad_pdfs.valid_pdf(), bad_pdfs.self_drawing_xobject_pdf(), bad_pdfs.valid_pdf(2)]
    previews = pdf_preview.render_many(files, limits=LIMITS, per_child=10)
    assert [p.ok for p in previews] == [True, False, True]
    assert previews[1].reason


def test_no_server_module_imports_pdfium():
    """Every module of pages/, services/ and commands/ imported in a fresh interpreter: no
    pypdfium2 (only the child process started by _pdf_preview loads it)."""
    script = """
import importlib, json, pkgutil, sys
import commands, pages, services
for package in (commands, pages, services):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("pypdfium2"))))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# --- uploads of crafted files ----------------------------------------------------------------

@pytest.fixture
def desk(db, fake_clock, make_user, tmp_path):
    return build_desk(db, make_user, BlobStore(tmp_path / "blobs"))


def test_the_upload_check_refuses_a_self_drawing_form_with_its_reason(desk):
    outcome, = ingest(desk.db, desk.principal("admin_p1"),
                      [upload(desk, "loop.pdf", bad_pdfs.self_drawing_xobject_pdf())],
                      blob_store=desk.store)
    assert (outcome.result, outcome.reason) == ("rejected", pdf_check.SELF_DRAWING)
    assert count(desk.db, Report) == 0


def test_a_fan_out_that_passes_the_check_is_posted_without_a_preview_and_says_why(desk):
    data = bad_pdfs.fan_out_xobjects_pdf()
    outcome, = ingest(desk.db, desk.principal("admin_p1"), [upload(desk, "fan.pdf", data)],
                      blob_store=desk.store)
    assert outcome.result == "posted"
    assert "512 MB" in outcome.preview_problem or "too complex" in outcome.preview_problem
    sha256 = hashlib.sha256(data).hexdigest()
    status, reason, png = preview_of(desk, sha256)
    assert (status, reason, png) == ("failed", outcome.preview_problem, None)
    acme = desk.principal("sysadmin")
    page = access.first_page(desk.db, acme, outcome.report_id, blob_store=desk.store,
                                    staff_purpose=access.purpose(access.STAFF_PURPOSES[0]))
    assert page.png is None and page.reason == outcome.preview_problem
    # The PDF itself still downloads.
    _, pdf = access.pdf_bytes(desk.db, acme, outcome.report_id, blob_store=desk.store,
                                     staff_purpose=access.purpose(access.STAFF_PURPOSES[0]))
    assert pdf == data


def test_an_extreme_page_and_a_huge_image_are_posted_with_bounded_pictures_or_reasons(desk):
    files = {"tall.pdf": bad_pdfs.extreme_page_pdf(), "image.pdf": bad_pdfs.huge_image_pdf()}
    outcomes = ingest(desk.db, desk.principal("admin_p1"),
                      [upload(desk, name, data, employee_id=name) for name, data in files.items()],
                      blob_store=desk.store)
    assert [o.result for o in outcomes] == ["posted", "posted"]
    tall = preview_of(desk, hashlib.sha256(files["tall.pdf"]).hexdigest())
    assert tall[0] == "ready" and size_of(tall[2]) == (200, 2000)
    image = preview_of(desk, hashlib.sha256(files["image.pdf"]).hexdigest())
    assert image[0] in ("ready", "failed")
    if image[0] == "ready":
        assert max(size_of(image[2])) <= pdf_preview.MAX_SIDE
    else:
        assert outcomes[1].preview_problem == image[1] != ""


def test_too_many_tokens_is_too_complex_to_check_not_damaged():
    result = pdf_check.check_pdf(bad_pdfs.too_many_tokens_pdf(), max_bytes=1 << 20, max_pages=10,
                                 timeout_seconds=30, memory_mb=1024)
    assert result.reason == pdf_check.LIMIT_REACHED
    assert "damaged" not in result.reason


def test_forms_nested_too_deep_are_refused_with_a_reason():
    result = pdf_check.check_pdf(bad_pdfs.fan_out_xobjects_pdf(levels=pdf_check.MAX_FORM_DEPTH + 2,
                                                               fan=1),
                                 max_bytes=1 << 20, max_pages=10, timeout_seconds=10, memory_mb=512)
    assert result.reason == pdf_check.TOO_DEEP


# --- make previews ---------------------------------------------------------------------------

def _files_without_previews(desk, how_many: int) -> list[str]:
    """Reports posted before pictures were kept: their preview rows and PNGs removed."""
    outcomes = ingest(desk.db, desk.principal("admin_p1"),
                      [upload(desk, f"old-{n}.pdf", pdf_for(f"old {n}", 1), employee_id=f"O{n}")
                       for n in range(how_many)], blob_store=desk.store)
    with desk.db.transaction() as session:
        hashes = [session.get(Report, o.report_id).file_sha256 for o in outcomes]
        session.query(ReportPreview).delete()
    for sha256 in hashes:
        desk.store.delete_preview(sha256)
    return hashes


def test_make_previews_draws_what_is_missing_once_and_again_does_nothing(desk):
    hashes = _files_without_previews(desk, 3)
    assert report_previews.draw_missing(desk.db, desk.store, batch=2) == {"ready": 3}
    assert all(preview_of(desk, sha256)[0] == "ready" for sha256 in hashes)
    assert report_previews.draw_missing(desk.db, desk.store) == {}


def test_copies_of_make_previews_running_at_once_draw_each_file_once(desk):
    hashes = _files_without_previews(desk, 6)
    results = []

    def run() -> None:
        results.append(report_previews.draw_missing(desk.db, desk.store, batch=1))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(sum(done.values()) for done in results) == 6
    with desk.db.transaction(write=False) as session:
        statuses = session.scalars(select(ReportPreview.status)).all()
    assert sorted(statuses) == ["ready"] * 6
    assert all(desk.store.get_preview(sha256) for sha256 in hashes)


def test_a_claim_left_by_a_dead_process_is_taken_over_later(desk, fake_clock):
    sha256, = _files_without_previews(desk, 1)
    assert report_previews._claim(desk.db, 5) == [sha256]   # then that process died
    assert report_previews.draw_missing(desk.db, desk.store) == {}  # still claimed
    fake_clock.advance(minutes=30)  # past STALE_CLAIM
    assert report_previews.draw_missing(desk.db, desk.store) == {"ready": 1}
