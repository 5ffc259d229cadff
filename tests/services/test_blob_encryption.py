"""Report files encrypted at rest: what someone reading the file store's disk sees, what a changed
or swapped file does to a person opening the report, and the operator's key rotation, upgrade
from clear files and start-up checks."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from datetime import UTC, datetime

import pytest
from fpdf import FPDF

import commands.startup
from db import blob_keys
from db.blob_keys import BlobKeyError, Keyring, MissingBlobKey
from db.blob_store import BlobStore, FileUnreadable
from services.errors import ReportFileUnreadable
from services.reports import access, bundle_links, report_files
from tests.services.report_world import events, session_token

KEY_ONE, KEY_TWO, KEY_THREE = (bytes([n]) * 32 for n in (1, 2, 3))
SECRET_WORDS = "Jordan Castellano DOB 1984-03-12 positive for THC"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def readable_pdf(words: str = SECRET_WORDS) -> bytes:
    """A PDF whose words stand in the file as plain text (no compression), as scans' text may."""
    document = FPDF()
    document.set_compression(False)
    document.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    document.set_font("Helvetica", size=12)
    document.add_page()
    document.cell(text=words)
    data = bytes(document.output())
    assert words.encode() in data
    return data


def stored_path(store: BlobStore, sha256: str, suffix: str = ".pdf"):
    return store.root / sha256[:2] / f"{sha256}{suffix}"


# --- the file store itself ---------------------------------------------------------------------

def test_a_pdf_and_its_picture_come_back_as_stored_and_nothing_readable_lies_on_disk(tmp_path):
    store = BlobStore(tmp_path, Keyring.of(KEY_ONE))
    pdf, png = readable_pdf(), b"\x89PNG\r\n\x1a\n" + b"picture of " + SECRET_WORDS.encode()
    sha256 = store.put(pdf)
    store.put_preview(sha256, png)
    assert sha256 == hashlib.sha256(pdf).hexdigest()  # still found by the clear file's hash
    assert store.get(sha256) == pdf
    assert store.open(sha256).read() == pdf
    assert store.get_preview(sha256) == png
    for path in (stored_path(store, sha256), stored_path(store, sha256, ".png")):
        on_disk = path.read_bytes()
        assert b"Castellano" not in on_disk and b"THC" not in on_disk
        assert not on_disk.startswith((b"%PDF", b"\x89PNG"))


def test_the_same_pdf_posted_twice_is_stored_once(tmp_path):
    store = BlobStore(tmp_path, Keyring.of(KEY_ONE))
    pdf = readable_pdf()
    first = store.put(pdf)
    sealed = stored_path(store, first).read_bytes()
    assert store.put(pdf) == first
    assert stored_path(store, first).read_bytes() == sealed
    assert [f.path.name for f in store.files()] == [f"{first}.pdf"]


def test_a_changed_byte_anywhere_in_a_stored_file_is_refused(tmp_path):
    store = BlobStore(tmp_path, Keyring.of(KEY_ONE))
    sha256 = store.put(readable_pdf())
    path = stored_path(store, sha256)
    sealed = path.read_bytes()
    for at in (8, 40, len(sealed) // 2, len(sealed) - 1):  # key id, wrapped key, body, tag
        changed = bytearray(sealed)
        changed[at] ^= 0x01
        path.write_bytes(bytes(changed))
        with pytest.raises(FileUnreadable):
            store.get(sha256)
    path.write_bytes(sealed[:-20])  # cut short
    with pytest.raises(FileUnreadable):
        store.open(sha256)


def test_a_file_copied_over_another_reports_file_is_refused(tmp_path):
    store = BlobStore(tmp_path, Keyring.of(KEY_ONE))
    mine, theirs = store.put(readable_pdf("Report of Ana")), store.put(readable_pdf("Report of Bo"))
    store.put_preview(mine, b"\x89PNG\r\n\x1a\nAna")
    shutil.copyfile(stored_path(store, theirs), stored_path(store, mine))
    with pytest.raises(FileUnreadable, match="swapped"):
        store.get(mine)
    # A picture put where its own PDF belongs is refused too.
    shutil.copyfile(stored_path(store, mine, ".png"), stored_path(store, theirs))
    with pytest.raises(FileUnreadable, match="another kind"):
        store.get(theirs)


def test_a_file_sealed_under_a_key_not_configured_is_refused_naming_the_key(tmp_path):
    sha256 = BlobStore(tmp_path, Keyring.of(KEY_ONE)).put(readable_pdf())
    elsewhere = BlobStore(tmp_path, Keyring.of(KEY_TWO))
    with pytest.raises(FileUnreadable, match=f"master key {blob_keys.key_id(KEY_ONE).hex()}.*not configured"):
        elsewhere.get(sha256)


# --- what the person opening a report sees -------------------------------------------------------

def _tamper(world, key: str) -> None:
    path = stored_path(world.store, hashlib.sha256(world.pdf[key]).hexdigest())
    sealed = bytearray(path.read_bytes())
    sealed[-5] ^= 0xFF
    path.write_bytes(bytes(sealed))


def test_every_stored_file_of_the_portal_is_sealed(db, world):
    files = list(world.store.files())
    assert {f.path.suffix for f in files} == {".pdf", ".png"}
    for stored in files:
        assert world.store.master_key_id(stored) == blob_keys.key_id(
            base64.b64decode(os.environ["RESULTSDESK_BLOB_KEY"]))
        assert not stored.path.read_bytes().startswith((b"%PDF", b"\x89PNG"))


def test_a_tampered_report_is_refused_with_a_plain_message_and_audited(db, world, fake_clock):
    acme = world.principal("acme_user")
    report_id = world.report["acme_ccf"]
    _tamper(world, "acme_ccf")
    with pytest.raises(ReportFileUnreadable) as refused:
        access.pdf_bytes(world.db, acme, report_id, blob_store=world.store)
    assert str(refused.value) == ("This report's file could not be read. Please let support know "
                                  "which report it is.")
    [event] = events(world.db, "report.file_unreadable")
    assert (event.target_id, event.outcome, event.actor_user_id) == (str(report_id), "failure",
                                                                     acme.user_id)
    assert "changed" in event.details["reason"]
    assert events(world.db, "report.downloaded") == []  # nothing was handed out
    # The other reports open as before.
    _, data = access.pdf_bytes(world.db, acme, world.report["acme_injury"], blob_store=world.store)
    assert data == world.pdf["acme_injury"]


def test_a_swapped_preview_picture_is_refused_not_shown(db, world, fake_clock):
    acme = world.principal("acme_user")
    mine = hashlib.sha256(world.pdf["acme_ccf"]).hexdigest()
    theirs = hashlib.sha256(world.pdf["acme_injury"]).hexdigest()
    shutil.copyfile(stored_path(world.store, theirs, ".png"), stored_path(world.store, mine, ".png"))
    with pytest.raises(ReportFileUnreadable):
        access.first_page(world.db, acme, world.report["acme_ccf"], blob_store=world.store)
    assert access.first_page(world.db, acme, world.report["acme_injury"],
                             blob_store=world.store).png is not None


def test_a_zip_leaves_out_a_tampered_report_and_says_so(db, world, fake_clock):
    acme = world.principal("acme_user")
    _tamper(world, "acme_injury")
    keys = ("acme_ccf", "acme_injury")
    token = bundle_links.create(world.db, acme, [world.report[k] for k in keys], bundle_format="zip")
    bundle = bundle_links.open_stream(world.db, token, session_token(world.db, acme.user_id),
                                      world.store)
    with zipfile.ZipFile(io.BytesIO(b"".join(bundle.chunks))) as archive:
        names = archive.namelist()
        assert len([n for n in names if n.endswith(".pdf")]) == 1
        note = archive.read(bundle_links.NOT_INCLUDED).decode()
    assert str(world.report["acme_injury"]) in note and "could not be read" in note
    assert [e.target_id for e in events(world.db, "report.file_unreadable")] == [
        str(world.report["acme_injury"])]


# --- rotation ----------------------------------------------------------------------------------

def test_rotation_stopped_half_way_reads_with_both_keys_and_finishes_when_run_again(db, tmp_path):
    before = BlobStore(tmp_path, Keyring.of(KEY_ONE))
    pdfs = [readable_pdf(f"Report {n}") for n in range(6)]
    digests = [before.put(pdf) for pdf in pdfs]
    for sha256 in digests[:2]:
        before.put_preview(sha256, b"\x89PNG\r\n\x1a\n" + sha256.encode())

    during = BlobStore(tmp_path, Keyring.of(KEY_TWO, KEY_ONE))
    files = list(during.files())
    for stored in files[:4]:
        assert during.rewrap(stored)
    # Stopped in the middle of the next file: the old file stays, whole and readable.
    calls = []

    def power_cut(*args):
        calls.append(args)
        raise KeyboardInterrupt

    real_replace = os.replace
    os.replace = power_cut
    try:
        with pytest.raises(KeyboardInterrupt):
            during.rewrap(files[4])
    finally:
        os.replace = real_replace
    assert calls and not list(tmp_path.rglob(".incoming-*"))
    assert [during.get(sha256) for sha256 in digests] == pdfs  # both keys configured: all read
    assert during.get_preview(digests[0]) is not None

    # Without the old key the files not yet re-wrapped are refused, naming the key they need.
    only_new = BlobStore(tmp_path, Keyring.of(KEY_TWO))
    refused = [sha for sha in digests if _refused(only_new, sha)]
    assert refused and len(refused) < len(digests)

    walked = report_files.rotate(db, during)
    assert (walked.changed, walked.already, walked.failed) == (len(files) - 4, 4, [])
    assert [only_new.get(sha256) for sha256 in digests] == pdfs  # the old key can go now
    assert only_new.get_preview(digests[1]) == b"\x89PNG\r\n\x1a\n" + digests[1].encode()
    again = report_files.rotate(db, during)
    assert (again.changed, again.already) == (0, len(files))
    [event] = events(db, "blobs.rewrapped")
    assert event.details == {"files": len(files) - 4, "already": 4, "failed": 0,
                             "master_key": blob_keys.key_id(KEY_TWO).hex()}


def _refused(store: BlobStore, sha256: str) -> bool:
    try:
        store.get(sha256)
    except FileUnreadable as error:
        assert blob_keys.key_id(KEY_ONE).hex() in str(error)
        return True
    return False


def test_rotation_without_the_old_key_configured_changes_nothing_and_says_which_files(db, tmp_path):
    sha256 = BlobStore(tmp_path, Keyring.of(KEY_ONE)).put(readable_pdf())
    sealed = stored_path(BlobStore(tmp_path, Keyring.of(KEY_ONE)), sha256).read_bytes()
    walked = report_files.rotate(db, BlobStore(tmp_path, Keyring.of(KEY_TWO)))
    assert walked.changed == 0 and len(walked.failed) == 1 and sha256 in walked.failed[0]
    assert (tmp_path / sha256[:2] / f"{sha256}.pdf").read_bytes() == sealed
    assert BlobStore(tmp_path, Keyring.of(KEY_ONE)).get(sha256) == readable_pdf()


# --- the upgrade from clear files ------------------------------------------------------------------

def test_clear_files_from_before_are_read_while_they_prove_themselves_then_sealed(db, tmp_path):
    store = BlobStore(tmp_path, Keyring.of(KEY_ONE))
    pdf = readable_pdf()
    sha256 = hashlib.sha256(pdf).hexdigest()
    stored_path(store, sha256).parent.mkdir(parents=True)
    stored_path(store, sha256).write_bytes(pdf)
    stored_path(store, sha256, ".png").write_bytes(b"\x89PNG\r\n\x1a\nold picture")
    forged = hashlib.sha256(b"another file").hexdigest()
    stored_path(store, forged).parent.mkdir(parents=True)
    stored_path(store, forged).write_bytes(pdf)  # a clear file under a name not its own

    assert store.get(sha256) == pdf
    assert store.get_preview(sha256) is None  # a clear picture cannot prove whose it is
    with pytest.raises(FileUnreadable):
        store.get(forged)

    walked = report_files.encrypt_clear(db, store)
    assert (walked.changed, walked.already) == (2, 0)
    assert len(walked.failed) == 1 and forged in walked.failed[0]
    assert SECRET_WORDS.encode() not in stored_path(store, sha256).read_bytes()
    assert store.get(sha256) == pdf
    assert store.get_preview(sha256) == b"\x89PNG\r\n\x1a\nold picture"
    assert report_files.encrypt_clear(db, store).changed == 0  # run again: nothing left to do


# --- keys from the environment, the demo's key, and start-up -----------------------------------------

@pytest.fixture
def no_keys(monkeypatch, tmp_path):
    for name in (blob_keys.KEY_VARIABLE, blob_keys.KEY_FILE_VARIABLE, blob_keys.OLD_KEYS_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(report_files, "DEMO_KEY_FILE", tmp_path / "var" / "blob.key")
    return tmp_path / "var" / "blob.key"


def test_keys_from_the_environment_and_a_key_file_with_older_keys(no_keys, monkeypatch, tmp_path):
    monkeypatch.setenv(blob_keys.KEY_VARIABLE, _b64(KEY_TWO))
    monkeypatch.setenv(blob_keys.OLD_KEYS_VARIABLE, f"{_b64(KEY_ONE)}, {_b64(KEY_THREE)}")
    ring = blob_keys.required()
    assert ring.current == KEY_TWO and set(ring.keys.values()) == {KEY_ONE, KEY_TWO, KEY_THREE}

    monkeypatch.delenv(blob_keys.KEY_VARIABLE)
    monkeypatch.delenv(blob_keys.OLD_KEYS_VARIABLE)
    key_file = tmp_path / "keys"
    key_file.write_text(f"# new first\n{_b64(KEY_THREE)}\n\n{_b64(KEY_ONE)}\n")
    monkeypatch.setenv(blob_keys.KEY_FILE_VARIABLE, str(key_file))
    ring = blob_keys.required()
    assert ring.current == KEY_THREE and set(ring.keys.values()) == {KEY_ONE, KEY_THREE}


@pytest.mark.parametrize(("value", "message"), [
    ("not base64!", "RESULTSDESK_BLOB_KEY is not base64"),
    (base64.b64encode(b"short").decode(), "must be 32 bytes written as base64, not 5 bytes"),
])
def test_a_malformed_key_is_refused_with_the_reason_and_never_echoed(no_keys, monkeypatch, value,
                                                                     message):
    monkeypatch.setenv(blob_keys.KEY_VARIABLE, value)
    with pytest.raises(BlobKeyError, match=message) as refused:
        blob_keys.required()
    assert value not in str(refused.value)
    with pytest.raises(SystemExit, match=message):
        report_files.key_source()


def test_without_a_key_the_store_refuses_with_what_to_set(no_keys, tmp_path):
    with pytest.raises(MissingBlobKey, match="set RESULTSDESK_BLOB_KEY"):
        BlobStore(tmp_path / "blobs")


def test_a_deployment_without_a_key_refuses_to_start(no_keys, monkeypatch, tmp_path):
    monkeypatch.setenv("RESULTSDESK_DEMO", "0")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    with pytest.raises(SystemExit) as refused:
        commands.startup.main()
    assert str(refused.value) == report_files.NO_KEY
    assert "no key is configured" in report_files.NO_KEY and "make blob-key" in report_files.NO_KEY
    assert not (tmp_path / "never.db").exists()  # stopped before touching the database
    assert not no_keys.exists()  # and made no key of its own


def test_the_demo_makes_its_key_once_readable_by_its_owner_only_and_reuses_it(no_keys, monkeypatch,
                                                                             capsys):
    monkeypatch.setenv("RESULTSDESK_DEMO", "1")
    first = report_files.key_source()
    assert first.made_now and first.where == str(no_keys)
    assert stat.S_IMODE(no_keys.stat().st_mode) == 0o600
    assert "made just now" in report_files.describe(first)
    second = report_files.key_source()
    assert not second.made_now and second.keyring == first.keyring
    assert f"key {first.keyring.current_id.hex()}" in report_files.describe(second)
    assert list(no_keys.parent.iterdir()) == [no_keys]  # no half-written copies left beside it


def test_the_demo_start_says_which_key_seals_the_reports(no_keys, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RESULTSDESK_DEMO", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setattr("services.demo.seed.seed_if_empty", lambda db: False)
    monkeypatch.setattr("services.demo.seed.demo_logins_exist", lambda db: False)
    # A demo started before encryption at rest left its files in clear.
    monkeypatch.setenv("RESULTSDESK_BLOB_DIR", str(tmp_path / "blobs"))
    pdf = readable_pdf()
    sha256 = hashlib.sha256(pdf).hexdigest()
    (tmp_path / "blobs" / sha256[:2]).mkdir(parents=True)
    (tmp_path / "blobs" / sha256[:2] / f"{sha256}.pdf").write_bytes(pdf)
    commands.startup.main()
    commands.startup.main()
    said = capsys.readouterr().out
    assert said.count("Report files: encrypted at rest with a demo key made just now") == 1
    assert "Report files: encrypted at rest with key " in said and str(no_keys) in said
    assert said.count("Sealed 1 report file(s) the demo had stored in clear.") == 1
    on_disk = (tmp_path / "blobs" / sha256[:2] / f"{sha256}.pdf").read_bytes()
    assert SECRET_WORDS.encode() not in on_disk
    assert report_files.store().get(sha256) == pdf


def test_drawing_pictures_passes_over_a_tampered_file_and_tries_it_again_later(db, world,
                                                                            fake_clock):
    from sqlalchemy import delete, select

    from db.models import ReportPreview
    from services.reports import previews

    tampered, fine = (hashlib.sha256(world.pdf[key]).hexdigest() for key in ("acme_ccf", "acme_injury"))
    with world.db.transaction() as session:
        session.execute(delete(ReportPreview).where(ReportPreview.file_sha256.in_([tampered, fine])))
    for sha256 in (tampered, fine):
        world.store.delete_preview(sha256)
    _tamper(world, "acme_ccf")
    done = previews.draw_missing(world.db, world.store)
    assert done["ready"] == 1 and done["failed"] == 0
    with world.db.transaction(write=False) as session:
        status = dict(session.execute(select(ReportPreview.file_sha256, ReportPreview.status).where(
            ReportPreview.file_sha256.in_([tampered, fine]))).all())
    assert status == {tampered: "drawing", fine: "ready"}  # left for a later run, not failed
    assert world.store.get_preview(fine) is not None and world.store.get_preview(tampered) is None
