"""Access reviews: a campaign in which each admin confirms, role by role, that their people
should still have access; one item per reviewer, person and role at a place."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

ACCESS_REVIEW_DECISIONS = ("keep", "remove")


class AccessReviewCampaign(Base):
    """One review round: opened by a privacy officer or system admin, due on a date."""

    __tablename__ = "access_review_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    # Which admin roles review their people, comma-separated role names.
    reviewer_roles: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_by_email: Mapped[str] = mapped_column(String(254))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Each reminder is claimed once (a conditional UPDATE) by whichever job run gets there first.
    week_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    day_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccessReviewItem(Base):
    """One role of one person, for one reviewer to keep or remove.

    Names, emails and the role's words are copied at opening, so the record still reads after a
    person or a place is renamed or deleted. Two admins of one group each get their own item for
    the same role; when either removes it, role_removed_at is set on both.
    """

    __tablename__ = "access_review_items"
    __table_args__ = (
        CheckConstraint("decision IS NULL OR decision IN ('keep', 'remove')", name="decision"),
        Index("ix_access_review_items_reviewer", "campaign_id", "reviewer_user_id"),
        Index("ix_access_review_items_person", "campaign_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("access_review_campaigns.id"))
    reviewer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_email: Mapped[str] = mapped_column(String(254))
    reviewer_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_email: Mapped[str] = mapped_column(String(254))
    user_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    role_label: Mapped[str] = mapped_column(String(400))
    decision: Mapped[str | None] = mapped_column(String(8))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    role_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    removed_by_name: Mapped[str | None] = mapped_column(String(200))
