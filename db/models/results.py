"""What people keep of their results: single-use download links and saved searches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime


class DownloadLink(Base):
    """A short-lived, single-use link to one bundle of reports, served by the app's own route.

    Only the SHA-256 of the link's token is stored. The route checks the person's session and
    the scope of every report again as it streams, so the link alone reaches nothing.
    """

    __tablename__ = "download_links"
    __table_args__ = (Index("ix_download_links_expires", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    report_ids: Mapped[str] = mapped_column(Text)  # JSON list, in the order they are packed
    bundle_format: Mapped[str] = mapped_column(String(8))
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: a staff purpose, if any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SavedSearch(Base):
    """One person's named set of report filters; last_looked_at dates its "N new" on Home."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_searches_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    filters: Mapped[str] = mapped_column(Text)  # JSON of the Reports screen's filter
    in_email: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_looked_at: Mapped[datetime] = mapped_column(UTCDateTime())
