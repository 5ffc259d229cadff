"""The emails of an access review: to reviewers only, naming no person, no role and no patient.

A reviewer learns how many roles wait for them and by when, and signs in to see which.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from db.models import AccessReviewCampaign, User
from services import settings, time_zones
from services.mail import outbox
from services.wording import plural


def _due_words(campaign: AccessReviewCampaign, reviewer: User) -> str:
    """The due date as the reviewer reads it: the last day, in their own time zone."""
    zone = time_zones.zone_of(reviewer.time_zone)
    last_day = (campaign.due_at.astimezone(zone) - timedelta(seconds=1)).date()
    return f"{last_day:%A %d %B %Y} ({zone.key})"


def _body(reviewer: User, campaign: AccessReviewCampaign, roles: int, opening: str) -> str:
    return (f"Hello {reviewer.name},\n\n{opening}\n\n"
            f"Review: {campaign.title}\n"
            f"Roles to confirm: {plural(roles, 'role', 'roles')}\n"
            f"Please finish by the end of {_due_words(campaign, reviewer)}.\n\n"
            "For each of your people, keep each role they still need and remove the rest: "
            f"{settings.current().portal_url}/access-review\n\n"
            "Roles you do not review stay as they are; the privacy office sees what was not "
            "reviewed.\n")


def opened(session: Session, *, campaign: AccessReviewCampaign, reviewer: User, roles: int,
           now: datetime) -> None:
    outbox.enqueue(session, kind="access_review", to_address=reviewer.email, now=now,
                   subject="ResultsDesk access review: please confirm your people's roles",
                   body=_body(reviewer, campaign, roles,
                              "The privacy office asks you to confirm who should still have "
                              "access to ResultsDesk through you."))


def reminder(session: Session, *, campaign: AccessReviewCampaign, reviewer: User, roles: int,
             days_left: int, now: datetime) -> None:
    left = "tomorrow" if days_left <= 1 else f"in {days_left} days"
    outbox.enqueue(session, kind="access_review", to_address=reviewer.email, now=now,
                   subject=f"Reminder: ResultsDesk access review due {left}",
                   body=_body(reviewer, campaign, roles,
                              f"Your access review is due {left} and some roles still wait for "
                              "your decision."))
