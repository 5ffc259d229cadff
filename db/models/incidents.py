"""The HIPAA error-removal queue: one incident per report that reached the wrong account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

INCIDENT_STATUSES = ("open", "in_review", "closed")


class Incident(Base):
    """A report received in error: who got it, when it was found and removed, what was decided."""

    __tablename__ = "hipaa_incidents"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_review', 'closed')", name="status"),
        Index("ix_hipaa_incidents_queue", "status", "discovered_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    wrong_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))  # "portal" or "phone"
    note: Mapped[str] = mapped_column(Text, default="")
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessment: Mapped[dict] = mapped_column(JSON, default=dict)
    outcome: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
