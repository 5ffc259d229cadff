"""How one report file (a PDF or its preview picture) is sealed on disk: AES-256-GCM.

    magic "RDBLOB" + format 1 | kind (P: PDF, I: picture) | master key id (8)
    | nonce (12) + the file's own data key wrapped by the master key (32 + 16)
    | nonce (12) + the file encrypted with its data key (n + 16)

Each file has its own random data key. Both encryptions authenticate the file's identity, the
SHA-256 of the clear PDF and the kind, as associated data: a file copied over another's name,
or a picture put where a PDF belongs, fails to open. The wrapping also authenticates the master
key id. Rotation re-wraps the data key only (the header), leaving the encrypted file as it is.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from db.blob_keys import KEY_BYTES, KEY_ID_BYTES, Keyring

MAGIC = b"RDBLOB\x01"
PDF, PICTURE = b"P", b"I"
_NONCE = 12
_WRAPPED = KEY_BYTES + 16
HEADER_BYTES = len(MAGIC) + 1 + KEY_ID_BYTES + _NONCE + _WRAPPED + _NONCE


class FileUnreadable(Exception):
    """A stored file fails its check: changed, cut short, put in another's place, or its key is
    not configured. str(error) names the reason without a key or any file content."""


def is_sealed(start: bytes) -> bool:
    return start.startswith(MAGIC)


def _identity(kind: bytes, sha256: str) -> bytes:
    return MAGIC + kind + bytes.fromhex(sha256)


def seal(data: bytes, *, kind: bytes, sha256: str, keyring: Keyring) -> bytes:
    data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    identity = _identity(kind, sha256)
    wrap_nonce, data_nonce = os.urandom(_NONCE), os.urandom(_NONCE)
    wrapped = AESGCM(keyring.current).encrypt(wrap_nonce, data_key, identity + keyring.current_id)
    header = MAGIC + kind + keyring.current_id + wrap_nonce + wrapped + data_nonce
    return header + AESGCM(data_key).encrypt(data_nonce, data, identity)


def _fields(header: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    if len(header) < HEADER_BYTES or not is_sealed(header):
        raise FileUnreadable("the file is not a sealed report file, or is cut short")
    at = len(MAGIC)
    kind = header[at:at + 1]
    at += 1
    master_id = header[at:at + KEY_ID_BYTES]
    at += KEY_ID_BYTES
    wrap_nonce = header[at:at + _NONCE]
    at += _NONCE
    wrapped = header[at:at + _WRAPPED]
    at += _WRAPPED
    return kind, master_id, wrap_nonce, wrapped, header[at:at + _NONCE]


def master_key_id(header: bytes) -> bytes:
    return _fields(header)[1]


def _unwrap(header: bytes, *, kind: bytes, sha256: str, keyring: Keyring) -> bytes:
    stored_kind, master_id, wrap_nonce, wrapped, _ = _fields(header)
    if stored_kind != kind:
        raise FileUnreadable("the file is of another kind than its name says")
    master = keyring.keys.get(master_id)
    if master is None:
        raise FileUnreadable(f"the file was sealed with master key {master_id.hex()}, which is "
                             "not configured")
    try:
        return AESGCM(master).decrypt(wrap_nonce, wrapped, _identity(kind, sha256) + master_id)
    except InvalidTag:
        raise FileUnreadable("the file's key does not match its name (changed or swapped)") from None


def open_sealed(sealed: bytes, *, kind: bytes, sha256: str, keyring: Keyring) -> bytes:
    data_key = _unwrap(sealed[:HEADER_BYTES], kind=kind, sha256=sha256, keyring=keyring)
    data_nonce = _fields(sealed)[4]
    try:
        # A view, not a slice: copying a megabyte first made decrypting it ten times slower.
        return AESGCM(data_key).decrypt(data_nonce, memoryview(sealed)[HEADER_BYTES:],
                                        _identity(kind, sha256))
    except InvalidTag:
        raise FileUnreadable("the file's contents fail their check (changed or cut short)") from None


def rewrap(header: bytes, *, kind: bytes, sha256: str, keyring: Keyring) -> bytes:
    """The same header with the data key wrapped by the current master key."""
    data_key = _unwrap(header, kind=kind, sha256=sha256, keyring=keyring)
    data_nonce = _fields(header)[4]
    wrap_nonce = os.urandom(_NONCE)
    wrapped = AESGCM(keyring.current).encrypt(wrap_nonce, data_key,
                                              _identity(kind, sha256) + keyring.current_id)
    return MAGIC + kind + keyring.current_id + wrap_nonce + wrapped + data_nonce
