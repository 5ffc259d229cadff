"""Downloading many reports at once, as the person's browser gets them: a single-use link made on
the Reports screen, then followed while signed in, the bundle packed as it is sent.

What the person saves (exactly the stored PDFs, or one merged PDF with a bookmark per report),
who may follow the link (only its maker, signed in now, once, within five minutes), what
happens to a report that leaves their view in between (left out, and said so inside the ZIP),
and what the audit trail and the New marks record when a download is cut short.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select

from db.models import DownloadLink, Report, ReportRecipient
from services import audit
from services.errors import InvalidInput
from services.identity import sessions
from services.reports import bundle_links, report_types
from services.reports.access import STAFF_PURPOSES, purpose
from tests.services.report_world import (
    SPEC,
    add_report,
    download_bundle,
    events,
    file_name_of,
    no_patient_name,
    expect_denial,
    reads,
    session_token,
)

BUNDLE = ("acme_ccf", "acme_injury", "acme_first_notice")  # 1 + 2 + 3 pages


def _ids(world, keys) -> list[int]:
    return [world.report[key] for key in keys]


def _report_events(db):
    return [e for e in events(db) if e.action.startswith("report")]


def _link(world, user_key, keys=BUNDLE, bundle_format="zip", **kwargs) -> str:
    return bundle_links.create(world.db, world.principal(user_key), _ids(world, keys),
                               bundle_format=bundle_format, **kwargs)


def _open(world, token, user_key="acme_user", signed_in=None):
    signed_in = signed_in or session_token(world.db, world.user[user_key])
    return bundle_links.open_stream(world.db, token, signed_in, world.store)


# --- what the person saves ---------------------------------------------------------------------

def test_the_streamed_zip_holds_exactly_the_stored_pdfs_uncompressed(db, world, fake_clock):
    bundle = _open(world, _link(world, "acme_user"))
    assert bundle.mime_type == "application/zip"
    assert bundle.file_name.startswith("reports_2026-11-") and bundle.file_name.endswith("_3.zip")
    data = b"".join(bundle.chunks)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    infos = archive.infolist()
    assert [info.filename for info in infos] == [file_name_of(world, k) for k in BUNDLE]
    assert [info.compress_type for info in infos] == [zipfile.ZIP_STORED] * 3
    for key in BUNDLE:
        assert archive.read(file_name_of(world, key)) == world.pdf[key]
        no_patient_name(file_name_of(world, key))


def test_a_large_bundle_comes_in_pieces_of_about_a_megabyte(db, world, fake_clock, monkeypatch):
    acme = world.principal("acme_user")
    big = bytes(range(256)) * (3 * 4096)  # 3 MB each, so pieces are cut inside a report
    stored = world.store.put(b"%PDF-1.4\n" + big)
    with world.db.transaction() as session:
        for key in BUNDLE:
            session.get(Report, world.report[key]).file_sha256 = stored
    pieces = list(download_pieces(world, acme))
    assert len(pieces) >= 9
    assert all(len(piece) <= 1.2 * 1024 * 1024 for piece in pieces[:-1])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert [archive.read(info) for info in archive.infolist()] == [b"%PDF-1.4\n" + big] * 3


def download_pieces(world, principal):
    token = bundle_links.create(world.db, principal, _ids(world, BUNDLE), bundle_format="zip")
    return _open(world, token, signed_in=session_token(world.db, principal.user_id)).chunks


def test_the_merged_pdf_has_every_page_and_one_bookmark_per_report(db, world, fake_clock):
    bundle = _open(world, _link(world, "acme_user", bundle_format="pdf"))
    assert bundle.mime_type == "application/pdf" and bundle.file_name.endswith("_3.pdf")
    reader = PdfReader(io.BytesIO(b"".join(bundle.chunks)))
    assert len(reader.pages) == sum(SPEC[k].pages for k in BUNDLE) == 6
    outline = reader.outline
    assert len(outline) == 3 and not any(isinstance(item, list) for item in outline)
    for item, key in zip(outline, BUNDLE, strict=True):
        assert item.title.endswith(f"report {world.report[key]}")
        assert report_types.names(world.db)[SPEC[key].report_type] in item.title
        no_patient_name(item.title)
    assert [reader.get_destination_page_number(item) for item in outline] == [0, 1, 3]


@pytest.mark.parametrize("bundle_format", ["zip", "pdf"])
def test_each_report_sent_is_audited_and_becomes_read(db, world, fake_clock, bundle_format):
    acme = world.principal("acme_user")
    token = _link(world, "acme_user", bundle_format=bundle_format)
    assert reads(world.db, acme.user_id) == set()  # a link alone reads nothing
    assert _report_events(world.db) == []
    b"".join(_open(world, token).chunks)
    downloaded = _report_events(world.db)
    assert [e.action for e in downloaded] == ["report.downloaded"] * 3
    assert sorted(int(e.target_id) for e in downloaded) == sorted(world.ids(*BUNDLE))
    assert {e.actor_user_id for e in downloaded} == {acme.user_id}
    assert all(e.details == {"bundle": bundle_format, "bundle_size": 3} for e in downloaded)
    assert reads(world.db, acme.user_id) == world.ids(*BUNDLE)
    assert reads(world.db, world.user["acme_user2"]) == set()
    [made] = events(world.db, "bundle.link_created")
    assert made.details == {"bundle": bundle_format, "bundle_size": 3}
    [done] = events(world.db, "bundle.completed")
    assert done.details == {"bundle": bundle_format, "bundle_size": 3, "reports_sent": 3,
                            "reports_left_out": 0}


def test_the_link_keeps_only_a_hash_of_its_token_and_expires_in_five_minutes(db, world, fake_clock):
    token = _link(world, "acme_user")
    with world.db.transaction(write=False) as session:
        [link] = session.scalars(select(DownloadLink)).all()
        assert token not in (link.token_hash, link.report_ids, link.details)
        assert len(token) >= 43 and len(link.token_hash) == 64
        assert json.loads(link.report_ids) == _ids(world, BUNDLE)
        assert link.expires_at - link.created_at == bundle_links.LINK_LIFETIME
        assert link.used_at is None


def test_a_staff_bundle_needs_a_purpose_and_carries_it(db, world, fake_clock):
    support = world.principal("support")
    with pytest.raises(InvalidInput, match="Choose why"):
        _link(world, "support", ("acme_withdrawn", "globex_ccf"))
    why = purpose(STAFF_PURPOSES[3], "QA-7")
    token = _link(world, "support", ("acme_withdrawn", "globex_ccf"), staff_purpose=why)
    b"".join(_open(world, token, "support").chunks)
    downloaded = events(world.db, "report.downloaded")
    assert len(downloaded) == 2 and reads(world.db, support.user_id) == world.ids(
        "acme_withdrawn", "globex_ccf")
    assert all(e.details == {"purpose": STAFF_PURPOSES[3], "reference": "QA-7", "bundle": "zip",
                             "bundle_size": 2} for e in downloaded)


def test_a_repeated_id_is_packed_once(db, world, fake_clock):
    acme = world.principal("acme_user")
    saved = download_bundle(world, acme, _ids(world, ("acme_ccf", "acme_injury", "acme_ccf")))
    assert saved.file_name.endswith("_2.zip")
    assert len(zipfile.ZipFile(io.BytesIO(saved.data)).infolist()) == 2
    assert len(events(world.db, "report.downloaded")) == 2


def test_a_foreign_report_refuses_the_whole_link(db, world, fake_clock):
    acme = world.principal("acme_user")
    foreign = world.report["globex_ccf"]
    expect_denial(world.db, acme, lambda: bundle_links.create(
        world.db, acme, [world.report["acme_ccf"], foreign], bundle_format="zip"),
        target_type="report", target_id=foreign)
    with world.db.transaction(write=False) as session:
        assert session.scalars(select(DownloadLink)).all() == []


def test_an_empty_selection_or_unknown_format_is_refused(db, world, fake_clock):
    acme = world.principal("acme_user")
    with pytest.raises(InvalidInput, match="at least one report"):
        bundle_links.create(world.db, acme, [], bundle_format="zip")
    with pytest.raises(InvalidInput, match="ZIP or merged PDF"):
        bundle_links.create(world.db, acme, [world.report["acme_ccf"]], bundle_format="tar")
    assert events(world.db) == []


def test_the_selection_is_measured_in_scope(db, world, fake_clock):
    acme = world.principal("acme_user")
    chosen = bundle_links.measure(world.db, acme, _ids(world, BUNDLE))
    assert chosen == bundle_links.Selection(3, sum(len(world.pdf[k]) for k in BUNDLE), 0)
    # Another account's report is counted as out of view, never sized; the screen asks this on
    # every run, so it is not a refusal (the link is: see above).
    mixed = bundle_links.measure(world.db, acme, [world.report["globex_ccf"],
                                                  world.report["acme_ccf"]])
    assert mixed == bundle_links.Selection(1, len(world.pdf["acme_ccf"]), 1)
    assert events(world.db) == []


# --- the limits ----------------------------------------------------------------------------

def test_the_default_limits_are_five_thousand_reports_and_two_gigabytes(monkeypatch):
    from services import settings
    monkeypatch.delenv("RESULTSDESK_BULK_DOWNLOAD_REPORTS", raising=False)
    monkeypatch.delenv("RESULTSDESK_BULK_DOWNLOAD_MB", raising=False)
    limits = settings.current()
    assert (limits.bulk_download_reports, limits.bulk_download_bytes) == (5000, 2048 * 1024 ** 2)


@pytest.mark.parametrize("bundle_format", ["zip", "pdf"])
def test_too_many_reports_are_refused_before_a_link_is_made(db, world, fake_clock, monkeypatch,
                                                            bundle_format):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_REPORTS", "2")
    with pytest.raises(InvalidInput, match=r"at most 2 reports; 3 are selected"):
        _link(world, "acme_user", bundle_format=bundle_format)
    assert events(world.db) == []
    assert _link(world, "acme_user", BUNDLE[:2], bundle_format)  # at the cap: fine


def test_too_many_megabytes_are_refused_before_a_link_is_made(db, world, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_MB", "1")
    with world.db.transaction() as session:
        for key in BUNDLE:  # what the database says, not the tiny test file
            session.get(Report, world.report[key]).file_size = 600 * 1024
    with pytest.raises(InvalidInput, match=r"at most 1 MB; the selected reports come to 1.2 MB"):
        _link(world, "acme_user", BUNDLE[:2])
    assert _link(world, "acme_user", BUNDLE[:1])


def test_a_merged_pdf_has_its_own_smaller_cap_and_a_zip_of_the_same_reports_does_not(
        db, world, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_MERGED_PDF_MB", "1")
    with world.db.transaction() as session:
        for key in BUNDLE:  # what the database says, not the tiny test file
            session.get(Report, world.report[key]).file_size = 600 * 1024
    with pytest.raises(InvalidInput, match=r"One merged PDF holds at most 1 MB; the selected "
                                           r"reports come to 1.2 MB. Choose ZIP of PDFs"):
        _link(world, "acme_user", BUNDLE[:2], "pdf")
    assert events(world.db) == []
    assert _link(world, "acme_user", BUNDLE[:2], "zip")
    assert _link(world, "acme_user", BUNDLE[:1], "pdf")


# --- who may follow the link ---------------------------------------------------------------

def _refused(world, token, *, gone, **kwargs):
    with pytest.raises(bundle_links.LinkRefused) as refused:
        _open(world, token, **kwargs)
    assert refused.value.gone is gone
    assert str(refused.value) == (bundle_links.LinkRefused.GONE if gone
                                  else bundle_links.LinkRefused.NOT_YOURS)


def test_a_link_works_once(db, world, fake_clock):
    token = _link(world, "acme_user")
    b"".join(_open(world, token).chunks)
    _refused(world, token, gone=True)
    assert len(events(world.db, "report.downloaded")) == 3
    [refusal] = events(world.db, "bundle.link_refused")
    assert (refusal.outcome, refusal.details) == ("denied", {"reason": "used_or_expired"})


def test_a_link_opened_twice_at_once_streams_once(db, world, fake_clock):
    token = _link(world, "acme_user")
    first = _open(world, token)  # taken, not yet read
    _refused(world, token, gone=True)
    assert len(zipfile.ZipFile(io.BytesIO(b"".join(first.chunks))).infolist()) == 3


def test_an_expired_link_is_refused(db, world, fake_clock):
    token = _link(world, "acme_user")
    signed_in = session_token(world.db, world.user["acme_user"])
    fake_clock.advance(minutes=5)
    _refused(world, token, gone=True, signed_in=signed_in)
    assert _report_events(world.db) == [] and reads(world.db, world.user["acme_user"]) == set()


def test_an_unknown_link_is_refused_as_gone(db, world, fake_clock):
    _refused(world, "x" * 43, gone=True)


def test_another_persons_session_is_refused_and_leaves_the_link_to_its_maker(db, world, fake_clock):
    token = _link(world, "acme_user")
    _refused(world, token, gone=False, user_key="acme_user2")
    [refusal] = events(world.db, "bundle.link_refused")
    assert (refusal.actor_user_id, refusal.target_type, refusal.target_id, refusal.details) == (
        world.user["acme_user2"], "user", str(world.user["acme_user"]), {"reason": "other_user"})
    assert _report_events(world.db) == [] and reads(world.db, world.user["acme_user2"]) == set()
    # The maker can still use it: a stranger holding the link cannot spend it.
    assert len(zipfile.ZipFile(io.BytesIO(b"".join(_open(world, token).chunks))).infolist()) == 3


@pytest.mark.parametrize("how", ["signed_out", "idle", "no_cookie"])
def test_an_ended_session_is_refused(db, world, fake_clock, how):
    token = _link(world, "acme_user")
    signed_in = session_token(world.db, world.user["acme_user"])
    if how == "signed_out":
        sessions.end(world.db, signed_in)
    elif how == "idle":
        fake_clock.advance(minutes=4)  # the link still works; the session was last seen long ago
        with world.db.transaction() as session:
            from db.models import LoginSession
            session.execute(LoginSession.__table__.update().values(
                last_seen_at=fake_clock.now() - sessions.settings.current().session_idle))
    with pytest.raises(bundle_links.LinkRefused) as refused:
        bundle_links.open_stream(world.db, token, None if how == "no_cookie" else signed_in,
                                 world.store)
    assert not refused.value.gone and str(refused.value) == bundle_links.LinkRefused.NOT_YOURS
    [refusal] = events(world.db, "bundle.link_refused")
    assert refusal.details == {"reason": "session_ended"}
    assert _report_events(world.db) == [] and reads(world.db, world.user["acme_user"]) == set()


def test_a_session_ended_while_streaming_stops_the_download(db, world, fake_clock, monkeypatch):
    monkeypatch.setattr(bundle_links, "BATCH_SIZE", 1)
    acme = world.principal("acme_user")
    token = _link(world, "acme_user")
    signed_in = session_token(world.db, acme.user_id)
    chunks = bundle_links.open_stream(world.db, token, signed_in, world.store).chunks
    next(chunks)  # the first report
    sessions.end(world.db, signed_in)
    with pytest.raises(Exception):
        list(chunks)
    assert reads(world.db, acme.user_id) == {world.report["acme_ccf"]}
    [stopped] = events(world.db, "bundle.interrupted")
    assert stopped.details["reason"] == "session_ended" and stopped.details["reports_sent"] == 1


# --- reports that leave the person's view meanwhile ----------------------------------------

def test_a_report_routed_away_after_the_link_is_left_out_and_named(db, world, fake_clock):
    acme = world.principal("acme_user")
    token = _link(world, "acme_user")
    away = world.report["acme_injury"]
    with world.db.transaction() as session:
        session.execute(delete(ReportRecipient).where(ReportRecipient.report_id == away,
                                                      ReportRecipient.account_id == world.account["acme"]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(_open(world, token).chunks)))
    kept = ("acme_ccf", "acme_first_notice")
    assert [i.filename for i in archive.infolist()] == [
        *(file_name_of(world, k) for k in kept), "not-included.txt"]
    assert archive.read("not-included.txt").decode() == (
        "These reports were selected but are not in this download:\n\n"
        f"report {away}: no longer in your view\n")
    assert sorted(int(e.target_id) for e in events(world.db, "report.downloaded")) == sorted(
        world.ids(*kept))
    assert reads(world.db, acme.user_id) == world.ids(*kept)
    [done] = events(world.db, "bundle.completed")
    assert (done.details["reports_sent"], done.details["reports_left_out"]) == (2, 1)


def test_a_withdrawn_report_is_left_out_of_a_merged_pdf_too(db, world, fake_clock):
    token = _link(world, "acme_user", bundle_format="pdf")
    withdrawn = world.report["acme_first_notice"]
    with world.db.transaction() as session:
        session.get(Report, withdrawn).status = "withdrawn"
    reader = PdfReader(io.BytesIO(b"".join(_open(world, token).chunks)))
    assert len(reader.pages) == 1 + 2 + 1  # the two still in view, then the note
    assert [item.title for item in reader.outline][-1] == "Not included"
    assert f"report {withdrawn}: no longer in your view" in reader.pages[-1].extract_text()
    assert withdrawn not in reads(world.db, world.user["acme_user"])
    assert str(withdrawn) not in {e.target_id for e in events(world.db, "report.downloaded")}


# --- a download cut short -------------------------------------------------------------------

def test_a_download_closed_after_the_first_batch_records_only_what_was_sent(db, world, fake_clock,
                                                                            monkeypatch):
    monkeypatch.setattr(bundle_links, "BATCH_SIZE", 2)
    acme = world.principal("acme_user")
    extra = add_report(world.db, report_type="ccf", patient_id=world.patient["maria"],
                       provider_id=world.provider["p1a"], posted_at=fake_clock.now(),
                       recipients=(world.account["acme"],), store=world.store)
    ids = [*_ids(world, BUNDLE), extra]
    token = bundle_links.create(world.db, acme, ids, bundle_format="zip")
    chunks = _open(world, token).chunks
    next(chunks)  # the first batch: two small reports, one piece
    chunks.close()  # the browser went away
    first = set(ids[:2])
    assert {int(e.target_id) for e in events(world.db, "report.downloaded")} == first
    assert reads(world.db, acme.user_id) == first
    [stopped] = events(world.db, "bundle.interrupted")
    assert stopped.details == {"bundle": "zip", "bundle_size": 4, "reports_sent": 2,
                               "reports_left_out": 0, "reason": "download_closed"}
    assert events(world.db, "bundle.completed") == []


def test_a_download_closed_before_its_first_piece_still_records_its_end(db, world, fake_clock):
    acme = world.principal("acme_user")
    token = _link(world, "acme_user")
    _open(world, token).chunks.close()
    assert events(world.db, "report.downloaded") == [] and reads(world.db, acme.user_id) == set()
    [stopped] = events(world.db, "bundle.interrupted")
    assert (stopped.details["reports_sent"], stopped.details["reason"]) == (0, "download_closed")
    _refused(world, token, gone=True)  # the link was taken all the same


def test_a_merged_pdf_cut_short_counts_nothing_as_sent(db, world, fake_clock):
    acme = world.principal("acme_user")
    chunks = _open(world, _link(world, "acme_user", bundle_format="pdf")).chunks
    next(chunks)
    chunks.close()
    assert events(world.db, "report.downloaded") == [] and reads(world.db, acme.user_id) == set()
    [stopped] = events(world.db, "bundle.interrupted")
    assert stopped.details["reports_sent"] == 0


def test_every_bundle_action_has_words(db, world, fake_clock):
    token = _link(world, "acme_user")
    _refused(world, token, gone=False, user_key="acme_user2")
    b"".join(_open(world, token).chunks)
    written = {e.action for e in events(world.db)}
    assert {"bundle.link_created", "bundle.link_refused", "bundle.completed"} <= written
    assert written <= set(audit.ACTIONS) and "bundle.interrupted" in audit.ACTIONS


# --- housekeeping ------------------------------------------------------------------------

def test_links_a_day_past_expiry_are_swept(db, world, fake_clock):
    old = _link(world, "acme_user")
    fake_clock.advance(days=1, minutes=6)
    fresh = _link(world, "acme_user")
    assert bundle_links.sweep_expired(world.db) == 1
    assert bundle_links.sweep_expired(world.db) == 0
    _refused(world, old, gone=True)
    assert len(zipfile.ZipFile(io.BytesIO(b"".join(_open(world, fresh).chunks))).infolist()) == 3
