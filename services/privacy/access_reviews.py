"""Access reviews: admins confirm, role by role, that each of their people should keep access.

A privacy officer or system admin opens a campaign with a due date. At that moment every active
provider group admin, provider admin and client account admin chosen gets one item for each
role of each person they could remove on the Users screen (services/reach.py: the same rule),
never their own. Each reviewer keeps or removes each role; a removal goes through
memberships.revoke_in, so the delegation checks, the last-group-admin rule, the person's email
and the audit event are those of the Users screen. Two admins of one group review the same role
on items of their own: one person's decisions take turns (a lock per campaign and person) and
every change is a conditional UPDATE, so a role is removed once and no decision overwrites
another. Nothing is removed for want of an answer: what is still open at the due date is
listed for the privacy officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import AccessReviewCampaign, AccessReviewItem, Account, AccountMembership, Membership, User
from services import audit, clock, csv_export, principals, reach, time_zones
from services.errors import InvalidInput
from services.identity import memberships
from services.mail import addresses
from services.policy import ROLE_LABELS, Action, Grant, Role
from services.principals import Principal
from services.privacy import access_review_mail
from services.statuses import UserStatus
from services.transaction import transaction

REVIEWER_ROLES = (Role.PROVIDER_GROUP_ADMIN, Role.PROVIDER_ADMIN, Role.ACCOUNT_ADMIN)
TITLE_LIMIT = 120
LONGEST_CAMPAIGN = timedelta(days=366)
KEEP, REMOVE = "keep", "remove"

# What an item's state is called on the screens and in the export.
PENDING, KEPT, REMOVED, GONE = "pending", "kept", "removed", "gone"
STATE_WORDS = {PENDING: "Not reviewed yet", KEPT: "Kept", REMOVED: "Removed",
               GONE: "No longer held (removed outside this review)"}


@dataclass(frozen=True)
class Opened:
    campaign_id: int
    reviewers: int
    items: int


@dataclass(frozen=True)
class CampaignRow:
    id: int
    title: str
    opened_at: datetime
    opened_by: str
    due_at: datetime
    items: int
    settled: int
    removed: int

    @property
    def pending(self) -> int:
        return self.items - self.settled


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer_user_id: int | None
    name: str
    email: str
    items: int
    kept: int
    removed: int  # by this reviewer
    removed_by_other: int  # another reviewer of the same person removed the role first
    gone: int
    pending: int
    last_decision_at: datetime | None


@dataclass(frozen=True)
class ItemRow:
    id: int
    campaign_id: int
    reviewer_name: str
    reviewer_email: str
    user_id: int | None
    user_name: str
    user_email: str
    role_label: str
    decision: str | None
    decided_at: datetime | None
    removed_by: str | None
    removed_at: datetime | None
    state: str
    last_login_at: datetime | None = None


# --- conditions -------------------------------------------------------------------------------

def still_held():
    """SQL: the item's person still holds the item's role at its place."""
    item = AccessReviewItem
    return or_(
        and_(item.group_id.is_not(None), exists().where(
            Membership.user_id == item.user_id, Membership.group_id == item.group_id,
            Membership.provider_id.is_not_distinct_from(item.provider_id),
            Membership.role == item.role)),
        and_(item.account_id.is_not(None), exists().where(
            AccountMembership.user_id == item.user_id,
            AccountMembership.account_id == item.account_id, AccountMembership.role == item.role)))


def item_state():
    """SQL: pending, kept, removed or gone, in that order of questions."""
    item = AccessReviewItem
    return case((item.role_removed_at.is_not(None), REMOVED),
                (item.decision == KEEP, KEPT),
                (still_held(), PENDING),
                else_=GONE)


def _same_role(item: AccessReviewItem):
    """SQL: the items of this campaign for this person's same role at the same place."""
    other = AccessReviewItem
    return and_(other.campaign_id == item.campaign_id, other.user_id == item.user_id,
                other.role == item.role,
                other.group_id.is_not_distinct_from(item.group_id),
                other.provider_id.is_not_distinct_from(item.provider_id),
                other.account_id.is_not_distinct_from(item.account_id))


def _grant(item: AccessReviewItem) -> Grant:
    return Grant(Role(item.role), group_id=item.group_id, provider_id=item.provider_id,
                 account_id=item.account_id)


# --- opening ----------------------------------------------------------------------------------

def due_moment(due_on: date, principal: Principal) -> datetime:
    """A due date as the opener means it: the end of that day in their time zone."""
    return time_zones.day_start(due_on + timedelta(days=1), principal.zone)


def check_opening(principal: Principal, *, title: str, due_on: date,
                  reviewer_roles: list[Role] | tuple[Role, ...]) -> list[Role]:
    """Refuse (InvalidInput) what open_campaign would refuse for its input, before anyone is
    asked to confirm; returns the chosen reviewer roles."""
    title = (title or "").strip()
    if not title or len(title) > TITLE_LIMIT or addresses.has_line_break_or_control(title):
        raise InvalidInput(f"Give the review a name of 1 to {TITLE_LIMIT} characters on one line.")
    chosen = [Role(r) for r in dict.fromkeys(reviewer_roles)]
    if not chosen or any(role not in REVIEWER_ROLES for role in chosen):
        raise InvalidInput("Choose who reviews: provider group admins, provider admins or "
                           "client account admins.")
    now = clock.now()
    if due_on < now.astimezone(principal.zone).date() + timedelta(days=2):
        raise InvalidInput("Choose a due date after tomorrow, so reviewers have at least a day.")
    if due_moment(due_on, principal) > now + LONGEST_CAMPAIGN:
        raise InvalidInput("Choose a due date within a year.")
    return chosen


def open_campaign(db: Database, principal: Principal, *, title: str, due_on: date,
                  reviewer_roles: list[Role] | tuple[Role, ...] = REVIEWER_ROLES) -> Opened:
    """Open a campaign: snapshot every reviewer's people and roles, and email each reviewer."""
    now = clock.now()
    title = (title or "").strip()
    with transaction(db) as session:
        principal.require(Action.RUN_ACCESS_REVIEWS, target_type="access_review")
        chosen = check_opening(principal, title=title, due_on=due_on,
                               reviewer_roles=reviewer_roles)
        due_at = due_moment(due_on, principal)
        campaign = AccessReviewCampaign(title=title, reviewer_roles=",".join(chosen),
                                        opened_at=now, opened_by_user_id=principal.user_id,
                                        opened_by_email=principal.email, due_at=due_at)
        session.add(campaign)
        session.flush()
        reviewers = 0
        items = 0
        for reviewer in _reviewers(session, chosen):
            found = _snapshot(session, campaign.id, reviewer, chosen)
            if found:
                reviewers += 1
                items += found
                access_review_mail.opened(session, campaign=campaign, reviewer=reviewer,
                                          roles=found, now=now)
        if not items:
            raise InvalidInput("No chosen admin has anyone else to review: nothing was opened.")
        audit.record(session, action="access_review.opened", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="access_review",
                     target_id=campaign.id, now=now,
                     details={"reviewers": reviewers, "items": items,
                              "reviewer_roles": [str(r) for r in chosen],
                              "due_at": due_at.isoformat()})
        return Opened(campaign.id, reviewers, items)


def _reviewers(session: Session, roles: list[Role]) -> list[User]:
    """Active or locked (not invited, not deactivated) people holding a chosen admin role."""
    provider_roles = [r for r in roles if r != Role.ACCOUNT_ADMIN]
    ids = select(Membership.user_id).where(Membership.role.in_(provider_roles))
    if Role.ACCOUNT_ADMIN in roles:
        ids = ids.union(select(AccountMembership.user_id).join(
            Account, Account.id == AccountMembership.account_id).where(
            AccountMembership.role == Role.ACCOUNT_ADMIN, Account.deactivated_at.is_(None)))
    return list(session.scalars(select(User).where(
        User.id.in_(ids), User.status.in_((UserStatus.ACTIVE, UserStatus.LOCKED)))
        .order_by(User.email)))


def _snapshot(session: Session, campaign_id: int, reviewer: User, roles: list[Role]) -> int:
    """Add the reviewer's items: each role they could take away from each of their people."""
    acting = principals.load(session, reviewer)
    # Only the admin roles the campaign asks about count: a group admin who is also an account
    # admin reviews only their group when account admins were left out.
    acting = Principal(
        acting.user_id, acting.email, acting.name, frozenset(),
        tuple(link for link in acting.provider_links
              if link.role in roles or link.role not in REVIEWER_ROLES),
        tuple(link for link in acting.account_links
              if link.role in roles or link.role not in REVIEWER_ROLES))
    people = session.scalars(select(User).where(
        reach.user_condition(acting), User.id != reviewer.id,
        User.status != UserStatus.DEACTIVATED).order_by(User.email)).all()
    added = 0
    for person in people:
        target = reach.of_user(session, person.id)
        for grant in memberships.grants_of(session, person.id):
            if grant.kind == "staff" or not reach.may_grant(acting, grant) or \
                    not reach.may_manage_user(acting, target, removing=grant):
                continue
            session.add(AccessReviewItem(
                campaign_id=campaign_id, reviewer_user_id=reviewer.id,
                reviewer_email=reviewer.email, reviewer_name=reviewer.name,
                user_id=person.id, user_email=person.email, user_name=person.name,
                role=str(grant.role), group_id=grant.group_id, provider_id=grant.provider_id,
                account_id=grant.account_id, role_label=memberships.label(session, grant)))
            added += 1
    session.flush()
    return added


# --- deciding ---------------------------------------------------------------------------------

def decide(db: Database, principal: Principal, *, item_id: int, decision: str) -> str:
    """Keep or remove one role on one of the reviewer's own items; returns KEPT or REMOVED."""
    if decision not in (KEEP, REMOVE):
        raise InvalidInput("Choose Keep or Remove.")
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.MANAGE_USERS, target_type="access_review_item", target_id=item_id)
        item = session.get(AccessReviewItem, item_id)
        if item is None or item.reviewer_user_id != principal.user_id or item.user_id is None:
            raise principal.denied(Action.MANAGE_USERS, target_type="access_review_item",
                                   target_id=item_id)
        # The reviewers of one person take turns (two admins of a group removing the same role).
        db.serialise(session, f"access review:{item.campaign_id}:{item.user_id}")
        session.refresh(item)
        claimed = session.execute(
            update(AccessReviewItem).where(AccessReviewItem.id == item.id,
                                           AccessReviewItem.decision.is_(None),
                                           AccessReviewItem.role_removed_at.is_(None))
            .values(decision=decision, decided_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            raise InvalidInput(_already(item))
        if not session.scalar(select(still_held()).select_from(AccessReviewItem)
                              .where(AccessReviewItem.id == item.id)):
            raise InvalidInput("This person no longer has this role: it was removed outside "
                               "this review. Nothing changed.")
        grant = _grant(item)
        if decision == REMOVE:
            # Every reviewer's item for this role is settled by this one removal.
            session.execute(update(AccessReviewItem).where(
                _same_role(item), AccessReviewItem.role_removed_at.is_(None))
                .values(role_removed_at=now, removed_by_user_id=principal.user_id,
                        removed_by_name=principal.name)
                .execution_options(synchronize_session=False))
            memberships.revoke_in(db, session, principal, user_id=item.user_id, role=grant)
        audit.record(session, action="access_review.removed" if decision == REMOVE
                     else "access_review.kept", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=item.user_id,
                     now=now, details={"access_review_id": item.campaign_id, "item_id": item.id,
                                       "changed": memberships.describe(grant)})
        return REMOVED if decision == REMOVE else KEPT


def _already(item: AccessReviewItem) -> str:
    # Fixed words only: screens show refusals as formatted text, and names are typed by people.
    if item.role_removed_at is not None and item.decision != REMOVE:
        return ("Another reviewer already removed this role in this review (their name is in "
                "your Done list). Nothing more to do.")
    return "You have already decided on this role. Nothing changed."


# --- the reviewer's view ----------------------------------------------------------------------

def _rows(session: Session, query) -> list[ItemRow]:
    item = AccessReviewItem
    found = session.execute(query.add_columns(item_state().label("state"), User.last_login_at)
                            .outerjoin(User, User.id == item.user_id)).all()
    return [ItemRow(i.id, i.campaign_id, i.reviewer_name, i.reviewer_email, i.user_id,
                    i.user_name, i.user_email, i.role_label, i.decision, i.decided_at,
                    i.removed_by_name, i.role_removed_at, state, last_login)
            for i, state, last_login in found]


@dataclass(frozen=True)
class MyCampaign:
    campaign_id: int
    title: str
    due_at: datetime
    items: list[ItemRow]

    @property
    def pending(self) -> int:
        return sum(1 for row in self.items if row.state == PENDING)


def my_reviews(db: Database, principal: Principal) -> list[MyCampaign]:
    """The reviewer's campaigns still due or still holding something to decide, newest first."""
    now = clock.now()
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS, target_type="access_review")
        mine = AccessReviewItem.reviewer_user_id == principal.user_id
        campaigns = session.scalars(select(AccessReviewCampaign).where(
            AccessReviewCampaign.id.in_(select(AccessReviewItem.campaign_id).where(mine)))
            .order_by(AccessReviewCampaign.due_at.desc())).all()
        result = []
        for campaign in campaigns:
            rows = _rows(session, select(AccessReviewItem).where(
                mine, AccessReviewItem.campaign_id == campaign.id).order_by(
                AccessReviewItem.user_name, AccessReviewItem.user_email, AccessReviewItem.id))
            if campaign.due_at > now or any(row.state == PENDING for row in rows):
                result.append(MyCampaign(campaign.id, campaign.title, campaign.due_at, rows))
        return result


def waiting_for(db: Database, principal: Principal) -> int:
    """How many roles wait for this person's decision (0 for anyone who reviews nothing)."""
    if not principal.can(Action.MANAGE_USERS):
        return 0
    with transaction(db, write=False) as session:
        return session.scalar(select(func.count()).select_from(AccessReviewItem).where(
            AccessReviewItem.reviewer_user_id == principal.user_id,
            item_state() == PENDING)) or 0


# --- the privacy officer's view ---------------------------------------------------------------

def campaigns(db: Database, principal: Principal) -> list[CampaignRow]:
    with transaction(db, write=False) as session:
        principal.require(Action.RUN_ACCESS_REVIEWS, target_type="access_review")
        item = AccessReviewItem
        counts = select(item.campaign_id, func.count().label("item_count"),
                        func.sum(case((item_state() != PENDING, 1), else_=0)).label("settled"),
                        func.sum(case((item.role_removed_at.is_not(None), 1), else_=0))
                        .label("removed")).group_by(item.campaign_id).subquery()
        found = session.execute(select(AccessReviewCampaign, counts.c.item_count, counts.c.settled,
                                       counts.c.removed)
                                .outerjoin(counts, counts.c.campaign_id == AccessReviewCampaign.id)
                                .order_by(AccessReviewCampaign.opened_at.desc(),
                                          AccessReviewCampaign.id.desc())).all()
    return [CampaignRow(c.id, c.title, c.opened_at, c.opened_by_email, c.due_at, items or 0,
                        int(settled or 0), int(removed or 0))
            for c, items, settled, removed in found]


def _campaign(session: Session, principal: Principal, campaign_id: int) -> AccessReviewCampaign:
    principal.require(Action.RUN_ACCESS_REVIEWS, target_type="access_review", target_id=campaign_id)
    campaign = session.get(AccessReviewCampaign, campaign_id)
    if campaign is None:
        raise InvalidInput("No such access review.")
    return campaign


def progress(db: Database, principal: Principal, *, campaign_id: int) -> list[ReviewerProgress]:
    """Per reviewer: how many roles they kept, removed, found gone, and have still to decide."""
    with transaction(db, write=False) as session:
        _campaign(session, principal, campaign_id)
        item, state = AccessReviewItem, item_state()
        found = session.execute(select(
            item.reviewer_user_id, item.reviewer_name, item.reviewer_email, func.count(),
            func.sum(case((state == KEPT, 1), else_=0)),
            func.sum(case((item.decision == REMOVE, 1), else_=0)),
            func.sum(case((and_(state == REMOVED, or_(item.decision.is_(None), item.decision != REMOVE)),
                           1), else_=0)),
            *(func.sum(case((state == s, 1), else_=0)) for s in (GONE, PENDING)),
            func.max(item.decided_at))
            .where(item.campaign_id == campaign_id)
            .group_by(item.reviewer_user_id, item.reviewer_name, item.reviewer_email)
            .order_by(item.reviewer_name, item.reviewer_email)).all()
    return [ReviewerProgress(uid, name, email, total, int(kept), int(removed), int(by_other),
                             int(gone), int(pending), last)
            for uid, name, email, total, kept, removed, by_other, gone, pending, last in found]


def not_reviewed(db: Database, principal: Principal, *, campaign_id: int) -> list[ItemRow]:
    """Roles still waiting for a decision (after the due date: what was not reviewed in time)."""
    with transaction(db, write=False) as session:
        _campaign(session, principal, campaign_id)
        query = select(AccessReviewItem).where(AccessReviewItem.campaign_id == campaign_id,
                                               item_state() == PENDING).order_by(
            AccessReviewItem.reviewer_name, AccessReviewItem.user_name, AccessReviewItem.id)
        return _rows(session, query)


EXPORT_HEADER = ("Item", "Reviewer", "Reviewer email", "Person", "Person email", "Role",
                 "State", "Decision", "Decided at (UTC)", "Decided after the due date",
                 "Removed by", "Removed at (UTC)")


def export_csv(db: Database, principal: Principal, *, campaign_id: int) -> bytes:
    """Every item of a campaign as CSV (formula-safe), audited."""
    now = clock.now()
    with transaction(db) as session:
        campaign = _campaign(session, principal, campaign_id)
        rows = _rows(session, select(AccessReviewItem).where(
            AccessReviewItem.campaign_id == campaign_id).order_by(AccessReviewItem.id))
        audit.record(session, action="access_review.exported", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="access_review",
                     target_id=campaign_id, now=now, details={"rows": len(rows)})
        due_at = campaign.due_at

    def when(moment: datetime | None) -> str:
        return moment.isoformat(timespec="seconds") if moment else ""

    return csv_export.to_csv(EXPORT_HEADER, (
        (r.id, r.reviewer_name, r.reviewer_email, r.user_name, r.user_email, r.role_label,
         STATE_WORDS[r.state], r.decision or "", when(r.decided_at),
         "yes" if r.decided_at and r.decided_at > due_at else "", r.removed_by or "",
         when(r.removed_at)) for r in rows))


def reviewer_role_words(campaign_roles: str) -> str:
    return ", ".join(ROLE_LABELS[Role(r)] + "s" for r in campaign_roles.split(",") if r)
