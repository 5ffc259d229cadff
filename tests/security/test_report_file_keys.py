"""The report-file master key stays secret: never committed, never printed, never in the audit
trail or an error someone could read; a file from before encryption cannot stand in for another."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest

from db import blob_keys
from db.blob_keys import Keyring
from db.blob_store import BlobStore, FileUnreadable
from services.reports import report_files

ROOT = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))


def test_the_demo_key_file_is_never_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", str(report_files.DEMO_KEY_FILE)],
                             cwd=ROOT, check=False)
    assert ignored.returncode == 0, "var/blob.key must be ignored by git"
    assert report_files.DEMO_KEY_FILE.is_relative_to(ROOT / "var")


def test_the_key_never_appears_in_what_the_portal_prints_or_refuses_with(tmp_path, monkeypatch):
    encoded = base64.b64encode(KEY).decode()
    monkeypatch.setenv(blob_keys.KEY_VARIABLE, encoded)
    monkeypatch.delenv(blob_keys.KEY_FILE_VARIABLE, raising=False)
    said = report_files.describe(report_files.key_source())
    assert encoded not in said and Keyring.of(KEY).current_id.hex() in said
    sha256 = BlobStore(tmp_path, Keyring.of(KEY)).put(b"%PDF-1.4 report")
    for other in (Keyring.of(bytes(32)), Keyring.of(bytes(32), KEY)):
        store = BlobStore(tmp_path, other)
        (tmp_path / sha256[:2] / f"{sha256}.pdf").write_bytes(
            (tmp_path / sha256[:2] / f"{sha256}.pdf").read_bytes()[:-1] + b"\x00")
        with pytest.raises(FileUnreadable) as refused:
            store.get(sha256)
        assert encoded not in str(refused.value) and KEY.hex() not in str(refused.value)


def test_a_clear_file_cannot_stand_in_for_a_sealed_one(tmp_path):
    """Someone able to write to the volume drops a clear PDF under another report's name."""
    store = BlobStore(tmp_path, Keyring.of(KEY))
    victim = store.put(b"%PDF-1.4 the real report")
    (tmp_path / victim[:2] / f"{victim}.pdf").write_bytes(b"%PDF-1.4 planted")
    with pytest.raises(FileUnreadable):
        store.get(victim)
    store.put_preview(victim, b"\x89PNG\r\n\x1a\nreal")
    (tmp_path / victim[:2] / f"{victim}.png").write_bytes(b"\x89PNG\r\n\x1a\nplanted")
    assert store.get_preview(victim) is None
    assert hashlib.sha256(b"%PDF-1.4 the real report").hexdigest() == victim
