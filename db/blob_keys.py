"""The master keys that wrap each report file's own data key (docs/security.md).

A master key is 32 random bytes written as base64. Its id is derived from the key itself, so an
operator never types one and two keys never share one. One key is current (new files are sealed
with it, and rotation re-wraps every file to it); older keys stay readable while a rotation runs:

    RESULTSDESK_BLOB_KEY=<base64>               the current key, or
    RESULTSDESK_BLOB_KEY_FILE=/path/to/file     one key a line, the first current, the rest older
    RESULTSDESK_BLOB_OLD_KEYS=<base64>,...      older keys, readable only (during a rotation)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_VARIABLE = "RESULTSDESK_BLOB_KEY"
KEY_FILE_VARIABLE = "RESULTSDESK_BLOB_KEY_FILE"
OLD_KEYS_VARIABLE = "RESULTSDESK_BLOB_OLD_KEYS"
KEY_BYTES = 32
KEY_ID_BYTES = 8


class BlobKeyError(Exception):
    """The configured keys cannot be used; str(error) says which setting and why (never a key)."""


class MissingBlobKey(BlobKeyError):
    pass


def key_id(key: bytes) -> bytes:
    """A short name for a key that reveals nothing about it (a hash of the key under a label)."""
    return hashlib.sha256(b"ResultsDesk report-file key id\0" + key).digest()[:KEY_ID_BYTES]


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class Keyring:
    """The current master key and every key still readable, by id."""

    current_id: bytes
    keys: dict[bytes, bytes]

    @classmethod
    def of(cls, current: bytes, *older: bytes) -> Keyring:
        keys = {key_id(key): key for key in older}
        keys[key_id(current)] = current
        return cls(key_id(current), keys)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def describe(self) -> str:
        older = len(self.keys) - 1
        return f"key {self.current_id.hex()}" + (f" (and {older} older, readable)" if older else "")


def parse_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BlobKeyError(f"{where} is not base64 (make blob-key prints a new key).") from None
    if len(key) != KEY_BYTES:
        raise BlobKeyError(f"{where} must be {KEY_BYTES} bytes written as base64, "
                           f"not {len(key)} bytes (make blob-key prints a new key).")
    return key


def read_key_file(path: Path) -> list[bytes]:
    """The keys in a key file: one base64 key a line, blank lines and # comments ignored."""
    try:
        lines = Path(path).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BlobKeyError(f"The report-file key file {path} cannot be read "
                           f"({type(error).__name__}).") from None
    keys = [parse_key(line, f"Line {number} of {path}")
            for number, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise BlobKeyError(f"The report-file key file {path} holds no key.")
    return keys


def from_environment() -> Keyring | None:
    """The keys the environment configures, or None when it configures none."""
    text, file = os.environ.get(KEY_VARIABLE, "").strip(), os.environ.get(KEY_FILE_VARIABLE, "").strip()
    if text and file:
        raise BlobKeyError(f"Set {KEY_VARIABLE} or {KEY_FILE_VARIABLE}, not both.")
    if text:
        keys = [parse_key(text, KEY_VARIABLE)]
    elif file:
        keys = read_key_file(Path(file))
    else:
        return None
    older = [parse_key(part, f"A key in {OLD_KEYS_VARIABLE}")
             for part in os.environ.get(OLD_KEYS_VARIABLE, "").replace(",", " ").split()]
    return Keyring.of(keys[0], *keys[1:], *older)


def required() -> Keyring:
    found = from_environment()
    if found is None:
        raise MissingBlobKey(f"No report-file key: set {KEY_VARIABLE} (base64 of 32 random bytes; "
                             f"make blob-key prints one) or {KEY_FILE_VARIABLE}.")
    return found


def load_or_create(path: Path) -> tuple[Keyring, bool]:
    """The key file at `path`, made first (readable by its owner only) if there is none yet.

    Two processes starting at once both end up with the one key: the file is created exclusively,
    written, then moved into place only if still absent.
    """
    path = Path(path)
    if path.exists():
        keys = read_key_file(path)
        return Keyring.of(keys[0], *keys[1:]), False
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("# The demo's report-file key: without it the stored reports cannot be read.\n"
                     f"{new_key_text()}\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temp, path)  # fails if another process made the file first: theirs is kept
        created = True
    except FileExistsError:
        created = False
    finally:
        temp.unlink(missing_ok=True)
    keys = read_key_file(path)
    return Keyring.of(keys[0], *keys[1:]), created
