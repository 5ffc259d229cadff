"""Client accounts (employers, payors, TPAs) and the provider side (groups and providers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime

ACCOUNT_KINDS = ("employer", "payor", "tpa")


class Account(Base):
    """An employer, workers' compensation payor or TPA that receives reports."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("kind IN ('employer', 'payor', 'tpa')", name="kind"),
                      Index("ix_accounts_external_ref", "external_ref", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The customer's number in the operator's other systems (billing, CRM); unique when set.
    external_ref: Mapped[str | None] = mapped_column(String(60))
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Set when deactivated: its people lose access to it at once, nothing new is routed to it.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProviderGroup(Base):
    """A clinic organisation registered under its facility NPI."""

    __tablename__ = "provider_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    providers: Mapped[list[Provider]] = relationship(back_populates="group")


class Provider(Base):
    """One provider location (a medical center) inside a provider group."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("provider_groups.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="", server_default="")
    provider_type: Mapped[str] = mapped_column(String(60), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    fax: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Set when deactivated: uploads for it stop; its reports stay where they were routed.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[ProviderGroup] = relationship(back_populates="providers")


class RegistrationCode(Base):
    """A single-use code support issues so a facility can register its provider group.

    Only the code's SHA-256 is stored; the code itself is shown once, to the support rep.
    """

    __tablename__ = "registration_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    npi: Mapped[str] = mapped_column(String(10), index=True)
    facility_name: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    group_id: Mapped[int | None] = mapped_column(ForeignKey("provider_groups.id"))
