"""The unit of work a service function runs in.

A refused action rolls back everything the function did, then the refusal itself is written
to the audit trail in a transaction of its own, so every denial is recorded. Every service and
command opens its units of work here, reads and batches too, so no refusal escapes the trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from db.engine import Database
from services import audit
from services.errors import PermissionDenied


@contextmanager
def transaction(db: Database, *, write: bool = True) -> Iterator[Session]:
    try:
        with db.transaction(write=write) as session:
            yield session
    except PermissionDenied as denied:
        audit.record_denial(db, denied)
        raise
