"""Fixtures shared by the report tests (scope, search, downloads, retention)."""

from __future__ import annotations

import pytest

from db.blob_store import BlobStore
from tests.services.report_world import World, build_world


@pytest.fixture
def world(db, make_user, tmp_path) -> World:
    """The known world of tests/services/report_world.py, with its PDFs under tmp_path."""
    return build_world(db, make_user, BlobStore(tmp_path / "blobs"))
