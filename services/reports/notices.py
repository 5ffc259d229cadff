"""New-result notices: one email per run to each user who asked for them, when there is news.

`python -m commands.notices` (schedule it, e.g. hourly) counts, for every active user who
switched notices on, the reports in their view that became available since their last notice
and that they have not opened. Users with new results get one email through the outbox saying
how many, with a link to the portal: never a patient's name or any report detail. Saved
searches the person put in the email add a line each with their count of new results, under the
name the person gave them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from db.engine import Database
from db.models import User
from services import audit, clock, principals, settings
from services.errors import PermissionDenied
from services.mail import outbox
from services.principals import Principal
from services.reports import saved_searches, search
from services.statuses import UserStatus
from services.transaction import transaction


@dataclass(frozen=True)
class NoticeRun:
    users_checked: int
    emails_queued: int


def set_result_notices(db: Database, principal: Principal, *, enabled: bool) -> None:
    """Switch the acting user's own new-report emails on or off (from My account)."""
    now = clock.now()
    with transaction(db) as session:
        user = session.get(User, principal.user_id)
        if user.notify_new_results == enabled:
            return
        user.notify_new_results = enabled
        # Counting starts now: switching on never mails about results from before.
        user.results_notified_at = now
        audit.record(session, action="notices.changed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=principal.user_id,
                     details={"new_results": enabled}, now=now)


def result_notices_enabled(db: Database, principal: Principal) -> bool:
    with transaction(db, write=False) as session:
        return bool(session.scalar(select(User.notify_new_results)
                                   .where(User.id == principal.user_id)))


def send(db: Database, *, now: datetime | None = None) -> NoticeRun:
    """Queue at most one notice per opted-in user for this run; returns what it did."""
    now = now or clock.now()
    with transaction(db, write=False) as session:
        user_ids = session.scalars(select(User.id).where(User.notify_new_results.is_(True),
                                                         User.status == UserStatus.ACTIVE)
                                   .order_by(User.id)).all()
    queued = 0
    for user_id in user_ids:
        queued += _notify(db, user_id, now)
    if queued:
        with transaction(db) as session:
            audit.record(session, action="notices.queued", now=now,
                         details={"users_checked": len(user_ids), "emails": queued})
    return NoticeRun(users_checked=len(user_ids), emails_queued=queued)


def _notify(db: Database, user_id: int, now: datetime) -> int:
    with transaction(db) as session:
        user = session.get(User, user_id)
        since = user.results_notified_at or user.created_at
        # The conditional update claims this user's notice for the run: a second run started
        # at the same time finds nothing to claim and sends nothing.
        claimed = session.execute(
            update(User).where(User.id == user_id, User.results_notified_at.is_not_distinct_from(
                user.results_notified_at)).values(results_notified_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            return 0
        principal = principals.load(session, user)
        try:
            # Bounded by the run's moment: a report arriving while the run goes on is counted
            # by the next run, which starts from that moment.
            count = search.count_new(session, principal, delivered_after=since,
                                            delivered_until=now)
        except PermissionDenied:
            return 0  # holds no role that sees reports
        if count == 0:
            return 0
        lines = saved_searches.email_lines(session, principal, since=since, until=now)
        outbox.enqueue(session, kind="new_results", to_address=user.email,
                       subject="New reports in ResultsDesk", body=_body(user.name, count, lines),
                       now=now)
        return 1


def _body(name: str, count: int, saved: list[str]) -> str:
    capped = f"{count:,}+" if count >= search.COUNT_CAP else f"{count:,}"
    results = "new report is" if count == 1 else "new reports are"
    # The person's saved searches they asked to hear about: their own name for it and a count.
    among = "Among them:\n" + "".join(f"{line}\n" for line in saved) + "\n" if saved else ""
    return (f"Hello {name},\n\n"
            f"{capped} {results} waiting for you in ResultsDesk.\n\n"
            f"{among}"
            f"Sign in to see them: {settings.current().portal_url}/reports\n\n"
            "For your patients' privacy this email never contains report details.\n"
            "You can switch these emails off on the My account page.\n")
