"""Access review reminders: an email to each reviewer with roles still to decide, 7 days and
1 day before the due date. `make access-review-reminders` (hourly, or inside the portal).

Each reminder of each campaign is claimed by a conditional UPDATE of its column in the same
transaction that queues its emails, so replicas and cron running this at once send it once.
A reminder whose moment came before the campaign was opened is claimed without sending (the
opening email was just sent); so is the 7-day one when the job first runs inside the last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from db.engine import Database
from db.models import AccessReviewCampaign, AccessReviewItem, User
from services import audit, clock
from services.privacy import access_review_mail
from services.privacy.access_reviews import PENDING, item_state
from services.statuses import UserStatus
from services.transaction import transaction

# (name, how long before the due date, the campaign's column that says it was done)
REMINDERS = (("week", timedelta(days=7), AccessReviewCampaign.week_reminder_at),
             ("day", timedelta(days=1), AccessReviewCampaign.day_reminder_at))


@dataclass(frozen=True)
class ReminderRun:
    reminders: int
    emails: int


def send_reminders(db: Database, *, now: datetime | None = None) -> ReminderRun:
    """Queue the reminders that are due now; returns how many reminders and emails."""
    now = now or clock.now()
    with transaction(db, write=False) as session:
        due = session.scalars(select(AccessReviewCampaign.id).where(
            AccessReviewCampaign.due_at > now,
            or_(AccessReviewCampaign.week_reminder_at.is_(None),
                AccessReviewCampaign.day_reminder_at.is_(None)))
            .order_by(AccessReviewCampaign.id)).all()
    reminders = emails = 0
    for campaign_id in due:
        for name, before, column in REMINDERS:
            sent = _remind(db, campaign_id, name, before, column, now)
            if sent is not None:
                reminders += 1
                emails += sent
    return ReminderRun(reminders, emails)


def _remind(db: Database, campaign_id: int, name: str, before: timedelta, column,
            now: datetime) -> int | None:
    """One reminder of one campaign: None when not due or already claimed, else emails queued."""
    with transaction(db) as session:
        campaign = session.get(AccessReviewCampaign, campaign_id)
        moment = campaign.due_at - before
        if now < moment or now >= campaign.due_at:
            return None
        claimed = session.execute(
            update(AccessReviewCampaign).where(AccessReviewCampaign.id == campaign_id,
                                               column.is_(None)).values({column.key: now})
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            return None
        late = name == "week" and now >= campaign.due_at - timedelta(days=1)
        if campaign.opened_at > moment or late:
            return 0
        waiting = session.execute(
            select(User, func.count()).join(AccessReviewItem,
                                            AccessReviewItem.reviewer_user_id == User.id)
            .where(AccessReviewItem.campaign_id == campaign_id, item_state() == PENDING,
                   User.status.in_((UserStatus.ACTIVE, UserStatus.LOCKED)))
            .group_by(User.id).order_by(User.id)).all()
        for reviewer, roles in waiting:
            access_review_mail.reminder(session, campaign=campaign, reviewer=reviewer, roles=roles,
                                        days_left=before.days, now=now)
        audit.record(session, action="access_review.reminded", target_type="access_review",
                     target_id=campaign_id, now=now,
                     details={"reminder": name, "emails": len(waiting)})
        return len(waiting)
