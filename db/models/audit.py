"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime


class AuditEvent(Base):
    """Who did what to which target, when, and how it ended. Never holds PHI or secrets."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_time", "occurred_at", "id"),
        Index("ix_audit_events_actor_time", "actor_user_id", "occurred_at", "id"),
        Index("ix_audit_events_action_time", "action", "occurred_at", "id"),
        # A report's trail in time order: its access history and the accounting of disclosures
        # read a period of it (migration 0020).
        Index("ix_audit_events_target_time", "target_type", "target_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # Tamper evidence: each event's hash covers its fields and the previous event's hash.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
