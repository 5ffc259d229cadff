"""The one place that asks what time it is, so tests can move time (Django's `_now()` seam)."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)
