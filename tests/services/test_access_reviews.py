"""Access reviews: the snapshot at opening, keep and remove through the delegation rules, two
reviewers of one group at once, reminders once each, what was not reviewed, and the export."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import (
    AccessReviewItem,
    Account,
    AuditEvent,
    OutboxMessage,
    Provider,
    ProviderGroup,
    StaffRole,
)
from services import clock
from services.errors import InvalidInput, PermissionDenied
from services.identity import memberships
from services.policy import Grant, Role
from services.privacy import access_reviews as reviews
from services.privacy.access_review_reminders import send_reminders
from tests.conftest import principal_of


@dataclass
class Clinic:
    g1: int
    p1a: int
    p1b: int
    g2: int
    p2a: int
    a1: int
    users: dict[str, int]


@pytest.fixture
def clinic(db, make_user) -> Clinic:
    now = clock.now()
    with db.transaction() as session:
        g1 = ProviderGroup(name="North Clinics", npi="1000000004", created_at=now)
        g2 = ProviderGroup(name="South Clinics", npi="1000000012", created_at=now)
        a1 = Account(name="Acme Freight", kind="employer", created_at=now)
        session.add_all([g1, g2, a1])
        session.flush()
        p1a = Provider(group_id=g1.id, name="North Main", npi="1000000020")
        p1b = Provider(group_id=g1.id, name="North East", npi="1000000038")
        p2a = Provider(group_id=g2.id, name="South Main", npi="1000000046")
        session.add_all([p1a, p1b, p2a])
        session.flush()
        ids = (g1.id, p1a.id, p1b.id, g2.id, p2a.id, a1.id)
    g1, p1a, p1b, g2, p2a, a1 = ids
    users = {
        "privacy": make_user("privacy@example.test", name="Priya", staff=("privacy_officer",)),
        "root": make_user("root@example.test", name="Root", staff=("system_admin",)),
        "support": make_user("support@example.test", name="Sam", staff=("support_rep",)),
        "ga1": make_user("ga1@example.test", name="Grace", provider=((g1, None, "provider_group_admin"),)),
        "ga1b": make_user("ga1b@example.test", name="Gil", provider=((g1, None, "provider_group_admin"),)),
        "pa1": make_user("pa1@example.test", name="Carmen", provider=((g1, p1a, "provider_admin"),)),
        "st1": make_user("st1@example.test", name="Chris", provider=((g1, p1a, "provider_staff"),)),
        "st2": make_user("st2@example.test", name="=HYPERLINK(\"x\")",
                         provider=((g1, p1b, "provider_staff"),)),
        "mixed": make_user("mixed@example.test", name="Max", provider=(
            (g1, p1a, "provider_staff"), (g2, p2a, "provider_staff"))),
        "ga2": make_user("ga2@example.test", name="Gus", provider=((g2, None, "provider_group_admin"),)),
        "aa1": make_user("aa1@example.test", name="Erin", accounts=((a1, "account_admin"),)),
        "au1": make_user("au1@example.test", name="Ed", accounts=((a1, "account_user"),)),
        "gone": make_user("gone@example.test", name="Old", status="deactivated",
                          provider=((g1, p1a, "provider_staff"),)),
    }
    return Clinic(g1, p1a, p1b, g2, p2a, a1, users)


def _as(db, email):
    return principal_of(db, email)


def _open(db, *, days: int = 10, **kwargs) -> int:
    due_on = (clock.now() + timedelta(days=days)).date()
    return reviews.open_campaign(db, _as(db, "privacy@example.test"), title="Q4 review",
                                 due_on=due_on, **kwargs).campaign_id


def _items(db, campaign_id: int) -> list[AccessReviewItem]:
    with db.transaction(write=False) as session:
        found = session.scalars(select(AccessReviewItem).where(
            AccessReviewItem.campaign_id == campaign_id).order_by(AccessReviewItem.id)).all()
        session.expunge_all()
        return found


def _item(db, campaign_id: int, reviewer: str, person: str) -> int:
    matches = [i.id for i in _items(db, campaign_id)
               if i.reviewer_email == f"{reviewer}@example.test" and i.user_email == f"{person}@example.test"]
    assert len(matches) == 1, matches
    return matches[0]


def _holds(db, user_id: int, grant: Grant) -> bool:
    with db.transaction(write=False) as session:
        return grant in memberships.grants_of(session, user_id)


def _events(db, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        found = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)).all()
        session.expunge_all()
        return found


def _mail(db) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        found = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "access_review")
                                .order_by(OutboxMessage.id)).all()
        session.expunge_all()
        return found


def test_opening_snapshots_each_admins_people_and_roles(db, clinic):
    campaign_id = _open(db)
    got = sorted((i.reviewer_email.split("@")[0], i.user_email.split("@")[0], i.role)
                 for i in _items(db, campaign_id))
    assert got == sorted([
        ("ga1", "ga1b", "provider_group_admin"), ("ga1", "pa1", "provider_admin"),
        ("ga1", "st1", "provider_staff"), ("ga1", "st2", "provider_staff"),
        ("ga1", "mixed", "provider_staff"),
        ("ga1b", "ga1", "provider_group_admin"), ("ga1b", "pa1", "provider_admin"),
        ("ga1b", "st1", "provider_staff"), ("ga1b", "st2", "provider_staff"),
        ("ga1b", "mixed", "provider_staff"),
        ("pa1", "st1", "provider_staff"), ("pa1", "mixed", "provider_staff"),
        ("ga2", "mixed", "provider_staff"),
        ("aa1", "au1", "account_user"),
    ])
    # The person who also works elsewhere: each admin reviews only the role at their own place.
    mixed = {(i.reviewer_email, i.provider_id) for i in _items(db, campaign_id)
             if i.user_email == "mixed@example.test"}
    assert ("ga2@example.test", clinic.p2a) in mixed and ("ga1@example.test", clinic.p1a) in mixed
    assert sorted(m.to_address for m in _mail(db)) == sorted(
        f"{r}@example.test" for r in ("ga1", "ga1b", "pa1", "ga2", "aa1"))
    opened = _events(db, "access_review.opened")
    assert len(opened) == 1 and opened[0].details["items"] == 14
    assert opened[0].details["reviewers"] == 5


def test_only_chosen_admin_roles_review(db, clinic):
    campaign_id = _open(db, reviewer_roles=[Role.ACCOUNT_ADMIN])
    assert {i.reviewer_email for i in _items(db, campaign_id)} == {"aa1@example.test"}


@pytest.mark.parametrize("email", ["ga1@example.test", "support@example.test", "aa1@example.test"])
def test_only_privacy_officers_and_system_admins_open_reviews(db, clinic, email):
    with pytest.raises(PermissionDenied):
        reviews.open_campaign(db, _as(db, email), title="Mine",
                              due_on=(clock.now() + timedelta(days=10)).date())
    assert reviews.open_campaign(db, _as(db, "root@example.test"), title="Root's",
                                 due_on=(clock.now() + timedelta(days=10)).date()).items == 14
    assert len(_events(db, "access_review.opened")) == 1


@pytest.mark.parametrize("title,days,message", [
    ("", 10, "name"), ("a\nb", 10, "name"), ("x" * 121, 10, "name"),
    ("Q4", 0, "after tomorrow"), ("Q4", 1, "after tomorrow"), ("Q4", 400, "within a year")])
def test_bad_input_opens_nothing(db, clinic, title, days, message):
    with pytest.raises(InvalidInput, match=message):
        reviews.open_campaign(db, _as(db, "privacy@example.test"), title=title,
                              due_on=(clock.now() + timedelta(days=days)).date())
    assert reviews.campaigns(db, _as(db, "privacy@example.test")) == []
    assert _mail(db) == []


def test_keep_and_remove(db, clinic):
    campaign_id = _open(db)
    grace = _as(db, "ga1@example.test")
    st2 = Grant(Role.PROVIDER_STAFF, group_id=clinic.g1, provider_id=clinic.p1b)
    assert reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "st1"), decision="keep") == "kept"
    assert reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "st2"), decision="remove") == "removed"
    assert not _holds(db, clinic.users["st2"], st2)
    assert _holds(db, clinic.users["st1"], Grant(Role.PROVIDER_STAFF, group_id=clinic.g1,
                                                 provider_id=clinic.p1a))
    # The Users screen's own audit event and the review's.
    revoked = _events(db, "user.role_revoked")
    assert [e.target_id for e in revoked] == [str(clinic.users["st2"])]
    assert [e.details["item_id"] for e in _events(db, "access_review.removed")] == [
        _item(db, campaign_id, "ga1", "st2")]
    assert len(_events(db, "access_review.kept")) == 1
    # The other admin of the group finds the role already removed, by whom.
    gil = _as(db, "ga1b@example.test")
    mine = {row.user_email: row for c in reviews.my_reviews(db, gil) for row in c.items}
    assert mine["st2@example.test"].state == reviews.REMOVED
    assert mine["st2@example.test"].removed_by == "Grace"
    assert mine["st1@example.test"].state == reviews.PENDING  # Grace's keep is her own answer
    with pytest.raises(InvalidInput, match="Another reviewer already removed"):
        reviews.decide(db, gil, item_id=_item(db, campaign_id, "ga1b", "st2"), decision="keep")
    # A decision stays as made.
    with pytest.raises(InvalidInput, match="already decided"):
        reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "st1"), decision="remove")
    assert reviews.waiting_for(db, grace) == 3
    assert reviews.waiting_for(db, gil) == 4


def test_a_reviewer_acts_only_on_their_own_items(db, clinic):
    campaign_id = _open(db)
    carmen = _as(db, "pa1@example.test")
    with pytest.raises(PermissionDenied):
        reviews.decide(db, carmen, item_id=_item(db, campaign_id, "ga1", "st2"), decision="remove")
    with pytest.raises(PermissionDenied):
        reviews.decide(db, carmen, item_id=999_999, decision="keep")
    with pytest.raises(PermissionDenied):
        reviews.my_reviews(db, _as(db, "privacy@example.test"))  # no people of her own
    with pytest.raises(PermissionDenied):
        reviews.progress(db, carmen, campaign_id=campaign_id)
    assert _holds(db, clinic.users["st2"], Grant(Role.PROVIDER_STAFF, group_id=clinic.g1,
                                                 provider_id=clinic.p1b))


def test_removal_follows_the_delegation_rules_of_the_users_screen(db, clinic):
    campaign_id = _open(db)
    root = _as(db, "root@example.test")
    # After the review opened, Max was made staff: no clinic admin may touch a staff user.
    with db.transaction() as session:
        session.add(StaffRole(user_id=clinic.users["mixed"], role="support_rep"))
    mixed_role = Grant(Role.PROVIDER_STAFF, group_id=clinic.g1, provider_id=clinic.p1a)
    carmen = _as(db, "pa1@example.test")
    with pytest.raises(PermissionDenied):
        memberships.revoke(db, carmen, user_id=clinic.users["mixed"], role=mixed_role)
    with pytest.raises(PermissionDenied):
        reviews.decide(db, carmen, item_id=_item(db, campaign_id, "pa1", "mixed"), decision="remove")
    assert _holds(db, clinic.users["mixed"], mixed_role)
    # And Grace, no longer a group admin, may no longer remove anyone there.
    memberships.revoke(db, root, user_id=clinic.users["ga1"],
                       role=Grant(Role.PROVIDER_GROUP_ADMIN, group_id=clinic.g1))
    grace = _as(db, "ga1@example.test")
    with pytest.raises(PermissionDenied):
        reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "pa1"), decision="remove")
    assert _holds(db, clinic.users["pa1"], Grant(Role.PROVIDER_ADMIN, group_id=clinic.g1,
                                                 provider_id=clinic.p1a))
    assert _events(db, "access_review.removed") == []
    assert all(i.decision is None for i in _items(db, campaign_id))


def test_a_role_removed_outside_the_review_is_not_pending(db, clinic):
    campaign_id = _open(db)
    st1 = Grant(Role.PROVIDER_STAFF, group_id=clinic.g1, provider_id=clinic.p1a)
    memberships.revoke(db, _as(db, "support@example.test"), user_id=clinic.users["st1"], role=st1)
    with pytest.raises(InvalidInput, match="removed outside this review"):
        reviews.decide(db, _as(db, "ga1@example.test"),
                       item_id=_item(db, campaign_id, "ga1", "st1"), decision="keep")
    rows = {r.user_email: r for c in reviews.my_reviews(db, _as(db, "pa1@example.test")) for r in c.items}
    assert rows["st1@example.test"].state == reviews.GONE


def test_two_admins_of_one_group_removing_the_same_role_at_once(db, clinic):
    campaign_id = _open(db)
    items = {"ga1": _item(db, campaign_id, "ga1", "st1"), "ga1b": _item(db, campaign_id, "ga1b", "st1")}
    actors = {name: _as(db, f"{name}@example.test") for name in items}
    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def remove(name: str) -> None:
        start.wait()
        try:
            results[name] = reviews.decide(db, actors[name], item_id=items[name], decision="remove")
        except InvalidInput as error:
            results[name] = str(error)

    threads = [threading.Thread(target=remove, args=(name,)) for name in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    outcomes = sorted(results.values())
    assert outcomes[1] == "removed" and "already removed this role" in outcomes[0]
    assert len(_events(db, "user.role_revoked")) == 1
    assert len(_events(db, "access_review.removed")) == 1
    both = [i for i in _items(db, campaign_id) if i.user_email == "st1@example.test"
            and i.reviewer_email.startswith("ga1")]
    assert all(i.role_removed_at is not None for i in both)
    assert sorted(str(i.decision) for i in both) == ["None", "remove"]


def test_keep_and_remove_at_once_lose_neither_answer(db, clinic):
    campaign_id = _open(db)
    keep_id, remove_id = _item(db, campaign_id, "ga1", "pa1"), _item(db, campaign_id, "ga1b", "pa1")
    grace, gil = _as(db, "ga1@example.test"), _as(db, "ga1b@example.test")
    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def act(name, principal, item_id, decision) -> None:
        start.wait()
        try:
            results[name] = reviews.decide(db, principal, item_id=item_id, decision=decision)
        except InvalidInput as error:
            results[name] = str(error)

    threads = [threading.Thread(target=act, args=("grace", grace, keep_id, "keep")),
               threading.Thread(target=act, args=("gil", gil, remove_id, "remove"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results["gil"] == "removed"
    stored = {i.id: i for i in _items(db, campaign_id)}
    if results["grace"] == "kept":  # Grace answered first: her Keep stays on her item
        assert stored[keep_id].decision == "keep"
    else:  # Gil removed first: Grace was told, and nothing of hers was written
        assert "already removed" in results["grace"] and stored[keep_id].decision is None
    assert stored[keep_id].role_removed_at is not None and stored[remove_id].decision == "remove"
    assert len(_events(db, "user.role_revoked")) == 1


def test_one_reviewer_clicking_twice_at_once_decides_once(db, clinic):
    campaign_id = _open(db)
    item_id = _item(db, campaign_id, "aa1", "au1")
    erin = _as(db, "aa1@example.test")
    start = threading.Barrier(2)
    results: list[str] = []

    def remove() -> None:
        start.wait()
        try:
            results.append(reviews.decide(db, erin, item_id=item_id, decision="remove"))
        except InvalidInput as error:
            results.append(str(error))

    threads = [threading.Thread(target=remove) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results)[1] == "removed" and "already decided" in sorted(results)[0]
    assert len(_events(db, "user.role_revoked")) == 1


def test_reminders_go_once_each_at_seven_days_and_one_day(db, clinic, fake_clock):
    campaign_id = _open(db, days=10)
    opening = len(_mail(db))
    # Erin finishes her review before any reminder: she gets none.
    reviews.decide(db, _as(db, "aa1@example.test"), item_id=_item(db, campaign_id, "aa1", "au1"),
                   decision="keep")
    assert send_reminders(db).emails == 0  # ten days out: nothing yet
    due_at = reviews.campaigns(db, _as(db, "privacy@example.test"))[0].due_at
    fake_clock.current = due_at - timedelta(days=7) + timedelta(minutes=5)
    assert send_reminders(db).emails == 4
    assert send_reminders(db).emails == 0
    week = _mail(db)[opening:]
    assert sorted(m.to_address for m in week) == sorted(
        f"{r}@example.test" for r in ("ga1", "ga1b", "pa1", "ga2"))
    assert all("due in 7 days" in m.subject for m in week)
    # Grace finishes too; the one-day reminder skips her.
    grace = _as(db, "ga1@example.test")
    for row in reviews.my_reviews(db, grace)[0].items:
        reviews.decide(db, grace, item_id=row.id, decision="keep")
    fake_clock.current = due_at - timedelta(hours=20)
    assert send_reminders(db).emails == 3
    assert send_reminders(db).emails == 0
    day = _mail(db)[opening + 4:]
    assert sorted(m.to_address for m in day) == sorted(
        f"{r}@example.test" for r in ("ga1b", "pa1", "ga2"))
    assert all("due tomorrow" in m.subject for m in day)
    # The emails name nobody the reviewer reviews.
    for message in week + day:
        assert "Chris" not in message.body and "st1@example.test" not in message.body
        assert "/access-review" in message.body
    fake_clock.current = due_at + timedelta(hours=1)
    assert send_reminders(db).emails == 0
    assert [e.details["reminder"] for e in _events(db, "access_review.reminded")] == ["week", "day"]


def test_a_short_review_skips_the_seven_day_reminder(db, clinic, fake_clock):
    _open(db, days=3)
    opening = len(_mail(db))
    fake_clock.advance(hours=1)
    assert send_reminders(db).emails == 0
    due_at = reviews.campaigns(db, _as(db, "privacy@example.test"))[0].due_at
    fake_clock.current = due_at - timedelta(hours=20)
    assert send_reminders(db).emails == 5
    assert len(_mail(db)) == opening + 5


def test_reminders_from_several_replicas_at_once_go_once(db, clinic, fake_clock):
    campaign_id = _open(db, days=10)
    due_at = reviews.campaigns(db, _as(db, "privacy@example.test"))[0].due_at
    fake_clock.current = due_at - timedelta(days=6)
    start = threading.Barrier(3)
    sent: list[int] = []

    def run() -> None:
        start.wait()
        sent.append(send_reminders(db).emails)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(sent) == [0, 0, 5]
    assert campaign_id


def test_progress_and_what_was_not_reviewed_by_the_due_date(db, clinic, fake_clock):
    campaign_id = _open(db)
    grace = _as(db, "ga1@example.test")
    reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "st1"), decision="keep")
    reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "st2"), decision="remove")
    fake_clock.advance(days=11)
    privacy = _as(db, "privacy@example.test")
    by_reviewer = {p.email: p for p in reviews.progress(db, privacy, campaign_id=campaign_id)}
    assert (by_reviewer["ga1@example.test"].kept, by_reviewer["ga1@example.test"].removed,
            by_reviewer["ga1@example.test"].pending) == (1, 1, 3)
    # Gil's item for the role Grace removed is settled for him too.
    gil = by_reviewer["ga1b@example.test"]
    assert (gil.removed, gil.removed_by_other, gil.pending) == (0, 1, 4)
    late = reviews.not_reviewed(db, privacy, campaign_id=campaign_id)
    assert len(late) == 14 - 3
    assert ("ga1@example.test", "st1@example.test") not in {(r.reviewer_email, r.user_email) for r in late}
    # Nobody lost access for not being reviewed.
    assert _holds(db, clinic.users["au1"], Grant(Role.ACCOUNT_USER, account_id=clinic.a1))
    [row] = reviews.campaigns(db, privacy)
    assert (row.items, row.settled, row.removed, row.pending) == (14, 3, 2, 11)
    # A reviewer can still answer late; the export says so.
    reviews.decide(db, _as(db, "aa1@example.test"), item_id=_item(db, campaign_id, "aa1", "au1"),
                   decision="keep")
    assert len(reviews.not_reviewed(db, privacy, campaign_id=campaign_id)) == 10
    # Past the due date, a finished campaign leaves the reviewer's screen.
    assert reviews.my_reviews(db, _as(db, "aa1@example.test")) == []


def test_export_is_formula_safe_and_audited(db, clinic):
    campaign_id = _open(db)
    reviews.decide(db, _as(db, "ga1@example.test"), item_id=_item(db, campaign_id, "ga1", "st2"),
                   decision="remove")
    privacy = _as(db, "privacy@example.test")
    data = reviews.export_csv(db, privacy, campaign_id=campaign_id).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0] == list(reviews.EXPORT_HEADER)
    assert len(rows) == 1 + 14
    st2 = [r for r in rows[1:] if r[4] == "st2@example.test"]
    assert {r[3] for r in st2} == {"'=HYPERLINK(\"x\")"}
    assert {r[6] for r in st2} == {"Removed"} and {r[10] for r in st2} == {"Grace"}
    [event] = _events(db, "access_review.exported")
    assert event.details == {"rows": 14} and event.target_id == str(campaign_id)
    with pytest.raises(PermissionDenied):
        reviews.export_csv(db, _as(db, "ga1@example.test"), campaign_id=campaign_id)


def test_the_reminders_run_inside_the_portal_too():
    from commands.inline_jobs import JOBS

    assert [job.run for job in JOBS if job.name == "access-review-reminders"] == [send_reminders]


def test_the_audit_trail_says_which_role_was_kept_or_removed(db, clinic):
    from services.privacy import audit_words

    campaign_id = _open(db)
    grace = _as(db, "ga1@example.test")
    reviews.decide(db, grace, item_id=_item(db, campaign_id, "ga1", "st2"), decision="remove")
    with db.transaction(write=False) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ("access_review.removed", "access_review.opened")))).all()
        lines = {line.event.action: line for line in audit_words.lines(session, events)}
    removed = lines["access_review.removed"]
    assert removed.sentence.startswith("Role removed in an access review: ")
    assert ("Role", "Provider staff at North East") in removed.parts
    assert lines["access_review.opened"].sentence == f"Access review opened: Access review {campaign_id}"
