"""Rollups the Dashboard reads instead of report rows (kept current by services.insight.report_volume)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

EVERY_REPORT = 0  # report_volume_daily.account_id of the rows that count each report once


class ReportVolumeDaily(Base):
    """Reports posted on one UTC day, per type, provider, state and injury, and per recipient.

    Rows with account_id = EVERY_REPORT count each report once; the other rows count each
    routing of a report to that account, so a report sent to an employer and a payor appears in
    both of theirs. Measures are sums, so any date range or filter is a SUM over rows.
    """

    __tablename__ = "report_volume_daily"
    __table_args__ = (Index("ix_report_volume_daily_day", "day", "account_id"),)

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no FK: 0 is "every"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    report_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    injury: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    reports: Mapped[int] = mapped_column(Integer)
    # Seconds from the service date (00:00 UTC) to posting, summed; within_72h counts those
    # posted within 72 hours of it.
    turnaround_seconds: Mapped[int] = mapped_column(BigInteger)
    within_72h: Mapped[int] = mapped_column(Integer)
    routed: Mapped[int] = mapped_column(Integer)  # sent to at least one account
    # Opened by a user of a recipient account at all, and within 3 days of posting.
    opened: Mapped[int] = mapped_column(Integer)
    opened_3d: Mapped[int] = mapped_column(Integer)
    archived: Mapped[int] = mapped_column(Integer)  # now archived
    redelivered: Mapped[int] = mapped_column(Integer)  # delivered again after posting
    corrections: Mapped[int] = mapped_column(Integer, default=0)  # posted as a correction
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)  # now withdrawn (a correction's
    # predecessor included)


class AccountVolumeDaily(Base):
    """Reports routed to one account on one UTC day, per type and provider group.

    The per-account rows of report_volume_daily summed over provider, state and injury: the
    Dashboard's split by account and its accounts table read these few rows instead of those
    many. Kept exact by the same changes (services.insight.report_volume).
    """

    __tablename__ = "account_volume_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reports: Mapped[int] = mapped_column(Integer)
    opened_3d: Mapped[int] = mapped_column(Integer)


class AccountActivityDaily(Base):
    """What one client user did on one UTC day for one of their accounts (for adoption)."""

    __tablename__ = "account_activity_daily"
    __table_args__ = (Index("ix_account_activity_daily_day", "day", "account_id"),)

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    opens: Mapped[int] = mapped_column(Integer, default=0)  # opens and previews
    downloads: Mapped[int] = mapped_column(Integer, default=0)  # each report of a bundle counts
