"""Patients, the PDF reports posted about them, and where each report is routed."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

# The report types are data since migration 0013 (ReportType rows, which it seeds with the ten
# the portal started with); code reads them through services.reports.report_types.
REPORT_STATUSES = ("available", "archived", "withdrawn")

# Patient-name search ignores accents. SQLite's FTS5 tokenizer removes them itself; PostgreSQL's
# index folds these letters with translate() (immutable, so usable in an index; independent of
# the database's locale), and the search folds the typed words with the same table.
_ACCENTED = "áàâäãåāăąçćčďéèêëēęěğíìîïīıłñńňóòôöõøōőřśšşťúùûüūůűýÿźžż"
_OWN_BASE = {"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ı": "i"}
NAME_FOLD_FROM = _ACCENTED + _ACCENTED.upper()
NAME_FOLD_TO = "".join(_OWN_BASE.get(c) or unicodedata.normalize("NFKD", c)[0]
                       for c in NAME_FOLD_FROM).lower()
PG_NAME_VECTOR = ("to_tsvector('simple', lower(translate(first_name || ' ' || last_name, "
                  f"'{NAME_FOLD_FROM}', '{NAME_FOLD_TO}')))")


ACCOUNT_KIND_COLUMNS = {"employer": "for_employers", "payor": "for_payors", "tpa": "for_tpas"}


class ReportType(Base):
    """One kind of report clinics post. Never deleted: reports point to it by code; a retired
    type takes no new uploads. for_* say which kinds of account receive it by default."""

    __tablename__ = "report_types"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    injury: Mapped[bool] = mapped_column(Boolean)
    for_employers: Mapped[bool] = mapped_column(Boolean)
    for_payors: Mapped[bool] = mapped_column(Boolean)
    for_tpas: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountReportType(Base):
    """One account's exception to its kind's standard set: receives=True adds a non-standard
    type, receives=False removes a standard one. No row: the kind's default applies."""

    __tablename__ = "account_report_types"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    report_type: Mapped[str] = mapped_column(ForeignKey("report_types.code"), primary_key=True)
    receives: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Patient(Base):
    """A worker seen at a clinic; employer_account_id is the employer the visit is for."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    employee_id: Mapped[str] = mapped_column(String(40), index=True)
    employer_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)


class Report(Base):
    """One posted PDF report; the bytes live in the blob store under file_sha256."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("status IN ('available', 'archived', 'withdrawn')", name="status"),
        Index("ix_reports_posted", "posted_at", "id"),
        Index("ix_reports_provider_posted", "provider_id", "posted_at", "id"),
        Index("ix_reports_type_posted", "report_type", "posted_at", "id"),
        Index("ix_reports_patient_posted", "patient_id", "posted_at", "id"),
        # A name search's count reads status from here instead of from each report's row:
        # about 3x faster for a common name (docs/performance.md, "Click to visible").
        Index("ix_reports_patient_status", "patient_id", "status", "posted_at", "id"),
        # The retention job and new-result notices look up reports by delivery time. Not led by
        # status: with only three values, an index on it would tempt SQLite's planner to scan
        # every available report instead of using the index that matches the search.
        Index("ix_reports_delivered", "delivered_at"),
        # Not unique: identical bytes from two clinics are two reports sharing one stored file.
        Index("ix_reports_file_sha256", "file_sha256"),
        Index("ix_reports_corrects", "corrects_report_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_type: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    service_date: Mapped[date] = mapped_column(Date)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the report last became available: its posting, or a staff re-delivery. Retention
    # counts its 60 days from here.
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="available")
    injury: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(2))
    claim_number: Mapped[str | None] = mapped_column(String(40))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    # A correction names the report it replaces (at most one correction each: a correction of a
    # correction names the correction). No foreign key: SQLite adds the column in place, and a
    # rebuilt reports table would trip the keys that point at it.
    corrects_report_id: Mapped[int | None] = mapped_column(Integer)
    # Set with status "withdrawn": when, and why (WITHDRAWAL_REASONS in services.reports.corrections;
    # "corrected" when a correction replaced it).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(String(40))


PREVIEW_STATUSES = ("drawing", "ready", "failed")


class ReportPreview(Base):
    """The first-page picture of one stored file (by SHA-256), shared by every report of it.

    "drawing" is a claim by the previews command (updated_at says when, so a claim left by a
    process that died can be taken over); "failed" keeps the reason people are shown.
    """

    __tablename__ = "report_previews"
    __table_args__ = (
        CheckConstraint("status IN ('drawing', 'ready', 'failed')", name="status"),
        Index("ix_report_previews_status", "status", "updated_at"),
    )

    file_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportRecipient(Base):
    """Routing: the report is in this account's view while the row exists."""

    __tablename__ = "report_recipients"
    __table_args__ = (Index("ix_report_recipients_account", "account_id", "report_id"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The first time a user of this account opened the report (adoption on the Dashboard).
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReportRead(Base):
    """The first time a user opened or downloaded a report: what clears its "New" marker."""

    __tablename__ = "report_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    first_opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
