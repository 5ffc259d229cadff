"""The portal's store of report files, with the keys that seal them (docs/security.md).

    python -m commands.rotate_blob_key   # re-wrap every file's key with the current master key
    python -m commands.encrypt_blobs     # seal clear files left from before encryption

A deployment configures its master key (db/blob_keys.py); the demo, with none configured, makes
one in var/blob.key on first start and keeps using it. Both walks are safe to stop and run
again: each file is rewritten beside itself and moved into place, and a file already done is
skipped, so a second run finishes what the first left.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from db import blob_keys
from db.blob_keys import BlobKeyError, Keyring
from db.blob_store import BlobStore, FileUnreadable
from db.engine import Database
from services import audit, settings
from services.errors import ReportFileUnreadable
from services.transaction import transaction

DEMO_KEY_FILE = settings.PROJECT_ROOT / "var" / "blob.key"
NO_KEY = (f"Report files are encrypted at rest and no key is configured. Set "
          f"{blob_keys.KEY_VARIABLE} (base64 of 32 random bytes: `make blob-key` prints one) or "
          f"{blob_keys.KEY_FILE_VARIABLE} (a file holding it), and keep a copy of it in your secret "
          "store, apart from the backups of the files (docs/operations.md). RESULTSDESK_DEMO=1 "
          "makes a demo key instead.")


@dataclass(frozen=True)
class KeySource:
    keyring: Keyring
    where: str
    made_now: bool = False


def key_source() -> KeySource:
    """The configured keys, or the demo's own (made on first use); refuses a deployment without."""
    try:
        configured = blob_keys.from_environment()
        if configured is not None:
            where = (blob_keys.KEY_VARIABLE if blob_keys.KEY_VARIABLE in _set_variables()
                     else blob_keys.KEY_FILE_VARIABLE)
            return KeySource(configured, where)
        if not settings.current().demo:
            raise SystemExit(NO_KEY)
        keyring, made = blob_keys.load_or_create(DEMO_KEY_FILE)
    except BlobKeyError as error:
        raise SystemExit(str(error)) from None
    return KeySource(keyring, str(DEMO_KEY_FILE), made)


def _set_variables() -> set[str]:
    return {name for name in (blob_keys.KEY_VARIABLE, blob_keys.KEY_FILE_VARIABLE)
            if os.environ.get(name, "").strip()}


def store() -> BlobStore:
    return BlobStore(settings.current().blob_dir, keyring=key_source().keyring)


def describe(source: KeySource) -> str:
    """One line for the start: what seals the report files, and where that key lives."""
    if source.made_now:
        return (f"Report files: encrypted at rest with a demo key made just now in {source.where} "
                "(readable by this account only; without it the demo's reports cannot be read).")
    return f"Report files: encrypted at rest with {source.keyring.describe()} from {source.where}."


def refused(db: Database, error: FileUnreadable, *, report_id: int, actor_user_id: int | None,
            actor_email: str | None) -> ReportFileUnreadable:
    """The error to show for a stored file that fails its check, once its reason is audited."""
    with transaction(db) as session:
        audit.record(session, action="report.file_unreadable", outcome="failure",
                     actor_user_id=actor_user_id, actor_email=actor_email,
                     target_type="report", target_id=report_id, details={"reason": str(error)})
    return ReportFileUnreadable()


@dataclass
class Walked:
    """What a walk over the store did: files changed, already done, and those it could not do."""

    changed: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)  # file names with the reason


def rotate(db: Database, blob_store: BlobStore, *,
           progress: Callable[[Walked], None] | None = None) -> Walked:
    """Wrap every file's data key with the current master key (older keys must be configured)."""
    walked = _walk(blob_store, blob_store.rewrap, progress)
    _record(db, "blobs.rewrapped", walked, blob_store.keyring)
    return walked


def encrypt_clear(db: Database, blob_store: BlobStore, *,
                  progress: Callable[[Walked], None] | None = None) -> Walked:
    """Seal the clear files an upgrade found (a PDF only if it is what its name says)."""
    walked = _walk(blob_store, blob_store.seal_clear, progress)
    _record(db, "blobs.sealed", walked, blob_store.keyring)
    return walked


def _walk(blob_store: BlobStore, change, progress) -> Walked:
    walked = Walked()
    for number, stored in enumerate(blob_store.files(), start=1):
        try:
            if change(stored):
                walked.changed += 1
            else:
                walked.already += 1
        except FileNotFoundError:
            continue  # removed while the walk ran (the sweep): nothing to do
        except FileUnreadable as error:
            walked.failed.append(f"{stored.path.name}: {error}")
        if progress is not None and number % 500 == 0:
            progress(walked)
    return walked


def _record(db: Database, action: str, walked: Walked, keyring: Keyring) -> None:
    if not walked.changed and not walked.failed:
        return
    with transaction(db) as session:
        audit.record(session, action=action, outcome="failure" if walked.failed else "success",
                     details={"files": walked.changed, "already": walked.already,
                              "failed": len(walked.failed), "master_key": keyring.current_id.hex()})
