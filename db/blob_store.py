"""Where report PDFs live: content-addressed files (by SHA-256) under one directory.

Each PDF's first-page picture sits beside it as `<sha>.png`, named by the PDF's hash, so
reports sharing a file share its picture.

The database holds the metadata and the hash; this is the small interface a shared volume or
an object store would stand behind when several replicas serve the portal.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str, suffix: str = ".pdf") -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put(self, data: bytes) -> str:
        """Store bytes and return their SHA-256; storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._path(digest)
        if not target.exists():
            self._write(target, data)
        return digest

    def put_preview(self, sha256: str, png: bytes) -> None:
        """Store the first-page picture of the PDF `sha256` (replacing any earlier one)."""
        self._write(self._path(sha256, ".png"), png)

    def get_preview(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256, ".png").read_bytes()
        except FileNotFoundError:
            return None

    def delete_preview(self, sha256: str) -> None:
        self._path(sha256, ".png").unlink(missing_ok=True)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)
