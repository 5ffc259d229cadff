"""Portal-wide settings kept in the database: contact details and the terms of use versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime


class PortalSetting(Base):
    """One editable portal setting (support phone, hours, HIPAA hotline ...) by key."""

    __tablename__ = "portal_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TermsVersion(Base):
    """One published text of the terms of use; the newest is the one people must accept."""

    __tablename__ = "terms_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TermsAcceptance(Base):
    """That a person accepted one version's text, and when."""

    __tablename__ = "terms_acceptances"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    terms_version_id: Mapped[int] = mapped_column(ForeignKey("terms_versions.id"), primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
