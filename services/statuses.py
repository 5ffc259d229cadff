"""Every status the portal stores or shows, one enum each, named as the portal says them.

They are StrEnums, like Role and Action: each member equals the string stored in its column
(db.models keeps plain String columns), so comparisons, SQL filters and audit details read the
same as before. `values(...)` gives the stored strings for membership tests on untrusted input
(`"x" in SomeEnum` raises on Python 3.11).
"""

from __future__ import annotations

from enum import StrEnum


class UserStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    LOCKED = "locked"
    DEACTIVATED = "deactivated"


class ReportStatus(StrEnum):
    AVAILABLE = "available"
    ARCHIVED = "archived"
    WITHDRAWN = "withdrawn"


class IncidentStatus(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    CLOSED = "closed"


class MessageStatus(StrEnum):
    """An outbox email's delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class InvitationStatus(StrEnum):
    """A role invitation's answer."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class InvitationState(StrEnum):
    """Whether an invited person's link still works (shown on the people directory)."""

    PENDING = "pending"
    EXPIRED = "expired"


class PreviewStatus(StrEnum):
    """A report's first-page picture."""

    DRAWING = "drawing"
    READY = "ready"
    FAILED = "failed"


class CodeState(StrEnum):
    """A registration code, as the Registration codes page lists it (worked out, not stored)."""

    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


def values(statuses: type[StrEnum]) -> frozenset[str]:
    """The stored strings of one status enum."""
    return frozenset(member.value for member in statuses)
