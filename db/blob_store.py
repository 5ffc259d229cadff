"""Where report PDFs live: content-addressed files (by SHA-256) under one directory, encrypted.

Each PDF's first-page picture sits beside it as `<sha>.png`, named by the PDF's hash, so
reports sharing a file share its picture. Both are sealed with AES-256-GCM under a data key of
their own, wrapped by the master key (db/blob_sealing.py; docs/security.md). The name stays the
SHA-256 of the clear PDF, which the database holds too: posting the same file twice stores it
once, and the sweep can tell which files no report names.

The database holds the metadata and the hash; this is the small interface a shared volume or
an object store would stand behind when several replicas serve the portal.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from db import blob_keys, blob_sealing
from db.blob_keys import Keyring
from db.blob_sealing import PDF, PICTURE, FileUnreadable

__all__ = ["BlobStore", "FileUnreadable", "StoredFile"]

_SUFFIX = {PDF: ".pdf", PICTURE: ".png"}
_KIND = {suffix: kind for kind, suffix in _SUFFIX.items()}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COPY_BYTES = 1024 * 1024


class StoredFile:
    """One file in the store, as rotation and the upgrade's encryption walk them."""

    def __init__(self, path: Path) -> None:
        self.path, self.sha256, self.kind = path, path.stem, _KIND[path.suffix]


class BlobStore:
    def __init__(self, root: Path, keyring: Keyring | None = None) -> None:
        self.root = Path(root)
        # Without a keyring the environment's keys (tests set one; the portal passes its own).
        self.keyring = keyring if keyring is not None else blob_keys.required()

    def _path(self, sha256: str, suffix: str = ".pdf") -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put(self, data: bytes) -> str:
        """Store bytes and return their SHA-256; storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._path(digest)
        if not target.exists():
            self._write(target, blob_sealing.seal(data, kind=PDF, sha256=digest, keyring=self.keyring))
        return digest

    def put_preview(self, sha256: str, png: bytes) -> None:
        """Store the first-page picture of the PDF `sha256` (replacing any earlier one)."""
        self._write(self._path(sha256, ".png"),
                    blob_sealing.seal(png, kind=PICTURE, sha256=sha256, keyring=self.keyring))

    def get_preview(self, sha256: str) -> bytes | None:
        """The picture, or None when there is none (or only a clear one from before encryption,
        which cannot prove whose it is: `make encrypt-blobs` seals it)."""
        try:
            stored = self._path(sha256, ".png").read_bytes()
        except FileNotFoundError:
            return None
        if not blob_sealing.is_sealed(stored):
            return None
        return blob_sealing.open_sealed(stored, kind=PICTURE, sha256=sha256, keyring=self.keyring)

    def delete_preview(self, sha256: str) -> None:
        self._path(sha256, ".png").unlink(missing_ok=True)

    @staticmethod
    def _write(target: Path, data: bytes, *, durable: bool = False) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        """The clear PDF; FileUnreadable if the stored file fails its check."""
        stored = self._path(sha256).read_bytes()
        if blob_sealing.is_sealed(stored):
            return blob_sealing.open_sealed(stored, kind=PDF, sha256=sha256, keyring=self.keyring)
        # A clear file from before encryption proves itself by its hash until it is sealed.
        if hashlib.sha256(stored).hexdigest() != sha256:
            raise FileUnreadable("the file is neither sealed nor the PDF its name says")
        return stored

    def open(self, sha256: str) -> BinaryIO:
        """The stored PDF to read a piece at a time (a bundle streams thousands of them).

        Decrypted whole, one file at a time (none is larger than the upload limit): a file
        failing its check raises here, before a first piece is handed out.
        """
        return io.BytesIO(self.get(sha256))

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    # --- keys: rotation and the upgrade from clear files ------------------------------------

    def files(self) -> Iterator[StoredFile]:
        """Every stored PDF and picture, folder by folder (temporary files left out)."""
        for folder in sorted(self.root.glob("??")):
            for path in sorted(folder.iterdir()):
                if path.suffix in _KIND and len(path.stem) == 64 and not path.name.startswith("."):
                    yield StoredFile(path)

    def master_key_id(self, stored: StoredFile) -> bytes | None:
        """The id of the master key a file is sealed with; None for a clear file."""
        with stored.path.open("rb") as handle:
            header = handle.read(blob_sealing.HEADER_BYTES)
        return blob_sealing.master_key_id(header) if blob_sealing.is_sealed(header) else None

    def rewrap(self, stored: StoredFile) -> bool:
        """Wrap the file's data key with the current master key; False if it already was.

        Only the header changes; the file is copied beside itself and moved into place, so an
        interruption leaves either the old file or the new one, each readable.
        """
        with stored.path.open("rb") as source:
            header = source.read(blob_sealing.HEADER_BYTES)
            if not blob_sealing.is_sealed(header):
                raise FileUnreadable("the file is not sealed yet (make encrypt-blobs seals it)")
            if blob_sealing.master_key_id(header) == self.keyring.current_id:
                return False
            new_header = blob_sealing.rewrap(header, kind=stored.kind, sha256=stored.sha256,
                                             keyring=self.keyring)
            self._replace_streaming(stored.path, os.fstat(source.fileno()).st_ino,
                                    new_header, source)
        return True

    def seal_clear(self, stored: StoredFile) -> bool:
        """Seal a clear file left from before encryption; False if it is sealed already."""
        data = stored.path.read_bytes()
        if blob_sealing.is_sealed(data):
            return False
        if stored.kind == PDF and hashlib.sha256(data).hexdigest() != stored.sha256:
            raise FileUnreadable("the clear file is not the PDF its name says")
        if stored.kind == PICTURE and not data.startswith(_PNG_SIGNATURE):
            raise FileUnreadable("the clear file is not a PNG picture")
        self._write(stored.path, blob_sealing.seal(data, kind=stored.kind, sha256=stored.sha256,
                                                   keyring=self.keyring), durable=True)
        return True

    @staticmethod
    def _replace_streaming(target: Path, inode: int, head: bytes, rest: BinaryIO) -> None:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(head)
                while piece := rest.read(_COPY_BYTES):
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())  # the only copy of this file's data key from now on
            # Removed meanwhile (the sweep, a failed upload): stays removed.
            if not target.exists() or target.stat().st_ino != inode:
                Path(temp).unlink(missing_ok=True)
                return
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
