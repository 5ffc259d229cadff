"""What client users do in the portal, counted per account and day for the Dashboard.

Only employer, payor and TPA users count: adoption is about the clients. A sign-in counts for
each of the user's accounts; opening or downloading a report counts for each of their accounts
the report is routed to, and the first opening by anyone of an account stamps that routing row
(report_recipients.first_opened_at), which the volume rollup counts as opened in time
(report_volume.OPENED_WITHIN).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from db import dialect
from db.models import AccountActivityDaily, ReportRecipient
from services import clock
from services.insight import report_volume
from services.principals import Principal

_COUNTERS = ("sign_ins", "opens", "downloads")


def _client_accounts(principal: Principal) -> list[int]:
    return [] if principal.is_staff else sorted({link.account_id for link in principal.account_links})


def _add(session: Session, user_id: int, counts: dict[int, int], counter: str, now: datetime) -> None:
    if not counts:
        return
    session.execute(dialect.insert_or_add(session, AccountActivityDaily,
                                          key=("account_id", "day", "user_id"), counters=(counter,)),
        [{"account_id": account_id, "day": now.date(), "user_id": user_id,
          **{name: amount if name == counter else 0 for name in _COUNTERS}}
         for account_id, amount in sorted(counts.items())])


def record_sign_in(session: Session, principal: Principal, *, now: datetime | None = None) -> None:
    """A successful sign-in by a client user, for each of their accounts."""
    accounts = _client_accounts(principal)
    _add(session, principal.user_id, dict.fromkeys(accounts, 1), "sign_ins", now or clock.now())


def record_access(session: Session, principal: Principal, report_ids: list[int], *,
                  download: bool) -> None:
    """Reports a user opened, previewed or downloaded (in scope: the caller checked)."""
    accounts = _client_accounts(principal)
    if not accounts or not report_ids:
        return
    now = clock.now()
    routed = session.execute(select(
        ReportRecipient.report_id, ReportRecipient.account_id, ReportRecipient.first_opened_at)
        .where(ReportRecipient.report_id.in_(report_ids),
               ReportRecipient.account_id.in_(accounts))).all()
    unopened = [(row.report_id, row.account_id) for row in routed if row.first_opened_at is None]
    if unopened:
        with report_volume.recount(session, [report_id for report_id, _ in unopened]):
            session.execute(update(ReportRecipient).where(
                tuple_(ReportRecipient.report_id, ReportRecipient.account_id).in_(unopened),
                ReportRecipient.first_opened_at.is_(None)).values(first_opened_at=now)
                .execution_options(synchronize_session=False))
    _add(session, principal.user_id, Counter(row.account_id for row in routed),
         "downloads" if download else "opens", now)
