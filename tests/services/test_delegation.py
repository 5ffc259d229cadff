"""Delegation: every role against every role-changing action, in and out of scope, and the rule
that a provider group always keeps a group admin."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from db.models import Account, AuditEvent, Provider, ProviderGroup, RoleInvitation, User
from services import clock, principals
from services.errors import InvalidInput, PermissionDenied
from services.identity import memberships, role_invitations
from services.policy import Grant, Role


@dataclass
class Place:
    g1: int
    p1a: int
    p1b: int
    g2: int
    p2a: int
    a1: int
    a2: int


@pytest.fixture
def place(db) -> Place:
    now = clock.now()
    with db.transaction() as session:
        g1 = ProviderGroup(name="North Clinics", npi="1000000004", created_at=now)
        g2 = ProviderGroup(name="South Clinics", npi="1000000012", created_at=now)
        a1 = Account(name="Acme Freight", kind="employer", created_at=now)
        a2 = Account(name="Payco Mutual", kind="payor", created_at=now)
        session.add_all([g1, g2, a1, a2])
        session.flush()
        p1a = Provider(group_id=g1.id, name="North Main", npi="1000000020")
        p1b = Provider(group_id=g1.id, name="North East", npi="1000000038")
        p2a = Provider(group_id=g2.id, name="South Main", npi="1000000046")
        session.add_all([p1a, p1b, p2a])
        session.flush()
        return Place(g1.id, p1a.id, p1b.id, g2.id, p2a.id, a1.id, a2.id)


def _grants(p: Place) -> dict[str, Grant]:
    return {
        "staff role": Grant(Role.SUPPORT_REP),
        "G1 group admin": Grant(Role.PROVIDER_GROUP_ADMIN, group_id=p.g1),
        "G1/P1a provider admin": Grant(Role.PROVIDER_ADMIN, group_id=p.g1, provider_id=p.p1a),
        "G1/P1a provider staff": Grant(Role.PROVIDER_STAFF, group_id=p.g1, provider_id=p.p1a),
        "G1/P1b provider staff": Grant(Role.PROVIDER_STAFF, group_id=p.g1, provider_id=p.p1b),
        "G2 group admin": Grant(Role.PROVIDER_GROUP_ADMIN, group_id=p.g2),
        "G2/P2a provider staff": Grant(Role.PROVIDER_STAFF, group_id=p.g2, provider_id=p.p2a),
        "A1 account admin": Grant(Role.ACCOUNT_ADMIN, account_id=p.a1),
        "A1 account user": Grant(Role.ACCOUNT_USER, account_id=p.a1),
        "A2 account user": Grant(Role.ACCOUNT_USER, account_id=p.a2),
    }


ALL = {"staff role", "G1 group admin", "G1/P1a provider admin", "G1/P1a provider staff",
       "G1/P1b provider staff", "G2 group admin", "G2/P2a provider staff", "A1 account admin",
       "A1 account user", "A2 account user"}
EXTERNAL = ALL - {"staff role"}
CLIENT = {"A1 account admin", "A1 account user", "A2 account user"}

# Who may give or take which role: written out by hand, not computed from the policy module.
MAY = {
    "system_admin": ALL,
    "support_rep": EXTERNAL,
    "account_rep": CLIENT,
    "privacy_officer": set(),
    "manager": set(),
    "group_admin_g1": {"G1 group admin", "G1/P1a provider admin", "G1/P1a provider staff",
                       "G1/P1b provider staff"},
    "provider_admin_p1a": {"G1/P1a provider admin", "G1/P1a provider staff"},
    "provider_staff_p1a": set(),
    "account_admin_a1": {"A1 account admin", "A1 account user"},
    "account_user_a1": set(),
}


def _actor(make_user, p: Place, key: str) -> int:
    email = f"{key}@example.test"
    if key in ("system_admin", "support_rep", "account_rep", "privacy_officer", "manager"):
        return make_user(email, staff=(key,))
    return make_user(email, **{
        "group_admin_g1": {"provider": ((p.g1, None, "provider_group_admin"),)},
        "provider_admin_p1a": {"provider": ((p.g1, p.p1a, "provider_admin"),)},
        "provider_staff_p1a": {"provider": ((p.g1, p.p1a, "provider_staff"),)},
        "account_admin_a1": {"accounts": ((p.a1, "account_admin"),)},
        "account_user_a1": {"accounts": ((p.a1, "account_user"),)},
    }[key])


def _principal(db, user_id: int):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _denials(db) -> int:
    with db.transaction(write=False) as session:
        return len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "permission.denied")).all())


@pytest.mark.parametrize("actor_key", sorted(MAY))
def test_each_role_invites_to_exactly_the_roles_it_may_give(db, place, make_user, actor_key):
    """The role side alone: an invitation names an address, not a person in anyone's reach."""
    actor = _principal(db, _actor(make_user, place, actor_key))
    for label, role in _grants(place).items():
        address = f"invitee-{label.replace('/', '-').replace(' ', '-')}@example.test"
        denials = _denials(db)
        if label in MAY[actor_key]:
            role_invitations.invite(db, actor, email=address, name="Ivy Invitee", role=role)
        else:
            with pytest.raises(PermissionDenied):
                role_invitations.invite(db, actor, email=address, name="Ivy Invitee", role=role)
            assert _denials(db) == denials + 1, f"{label}: refusal not audited"
    with db.transaction(write=False) as session:
        sent = session.scalars(select(RoleInvitation.email).order_by(RoleInvitation.id)).all()
    assert [e.removeprefix("invitee-").removesuffix("@example.test") for e in sent] == [
        label.replace("/", "-").replace(" ", "-").lower() for label in _grants(place) if label in MAY[actor_key]]


@pytest.mark.parametrize("actor_key", sorted(MAY))
def test_each_role_takes_away_exactly_what_it_may(db, place, make_user, actor_key):
    actor = _principal(db, _actor(make_user, place, actor_key))
    root = _principal(db, make_user("root@example.test", staff=("system_admin",)))
    # Every group keeps a second admin, so only the delegation rule decides here.
    for group in (place.g1, place.g2):
        spare = make_user(f"spare-{group}@example.test")
        memberships.grant(db, root, user_id=spare,
                          role=Grant(Role.PROVIDER_GROUP_ADMIN, group_id=group))
    for label, role in _grants(place).items():
        target = make_user(f"holder-{label.replace('/', '-').replace(' ', '-')}@example.test")
        memberships.grant(db, root, user_id=target, role=role)
        if label in MAY[actor_key]:
            memberships.revoke(db, actor, user_id=target, role=role)
            with db.transaction(write=False) as session:
                assert role not in memberships.grants_of(session, target), label
        else:
            with pytest.raises(PermissionDenied):
                memberships.revoke(db, actor, user_id=target, role=role)
            with db.transaction(write=False) as session:
                assert role in memberships.grants_of(session, target), label


def test_a_provider_admin_cannot_promote_to_group_admin_or_reach_another_provider(db, place, make_user):
    actor = _principal(db, _actor(make_user, place, "provider_admin_p1a"))
    target = make_user("t@example.test", provider=((place.g1, place.p1a, "provider_staff"),))
    staff = Grant(Role.PROVIDER_STAFF, group_id=place.g1, provider_id=place.p1a)
    for higher in (Grant(Role.PROVIDER_GROUP_ADMIN, group_id=place.g1),
                   Grant(Role.PROVIDER_ADMIN, group_id=place.g1, provider_id=place.p1b)):
        with pytest.raises(PermissionDenied):
            memberships.change_role(db, actor, user_id=target, old=staff, new=higher)
    memberships.change_role(db, actor, user_id=target, old=staff,
                            new=Grant(Role.PROVIDER_ADMIN, group_id=place.g1, provider_id=place.p1a))


def test_a_provider_must_belong_to_the_group_named(db, place, make_user):
    root = _principal(db, make_user("root@example.test", staff=("system_admin",)))
    target = make_user("t@example.test")
    with pytest.raises(InvalidInput, match="not part of the provider group"):
        memberships.grant(db, root, user_id=target,
                          role=Grant(Role.PROVIDER_STAFF, group_id=place.g1, provider_id=place.p2a))


def test_the_last_group_admin_can_be_neither_removed_nor_demoted(db, place, make_user):
    only = make_user("only@example.test", provider=((place.g1, None, "provider_group_admin"),))
    admin = _principal(db, only)
    own = Grant(Role.PROVIDER_GROUP_ADMIN, group_id=place.g1)
    with pytest.raises(InvalidInput, match="keeps at least one group admin"):
        memberships.revoke(db, admin, user_id=only, role=own)
    with pytest.raises(InvalidInput, match="keeps at least one group admin"):
        memberships.change_role(db, admin, user_id=only, old=own, new=Grant(
            Role.PROVIDER_STAFF, group_id=place.g1, provider_id=place.p1a))
    # A colleague already in the group (a person wholly in the admin's reach) becomes admin too.
    second = make_user("second@example.test", provider=((place.g1, place.p1a, "provider_staff"),))
    memberships.grant(db, admin, user_id=second, role=own)
    memberships.revoke(db, admin, user_id=only, role=own)  # now allowed: another admin remains
    with db.transaction(write=False) as session:
        assert own not in memberships.grants_of(session, only)
    with pytest.raises(InvalidInput, match="keeps at least one group admin"):
        memberships.revoke(db, _principal(db, second), user_id=second, role=own)


def test_two_admins_removing_each_other_at_once_leave_one(db, place, make_user):
    own = Grant(Role.PROVIDER_GROUP_ADMIN, group_id=place.g1)
    a = make_user("a@example.test", provider=((place.g1, None, "provider_group_admin"),))
    b = make_user("b@example.test", provider=((place.g1, None, "provider_group_admin"),))
    results: list[str] = []
    start = threading.Barrier(2)

    def remove(actor_id: int, target_id: int) -> None:
        actor = _principal(db, actor_id)
        start.wait()
        try:
            memberships.revoke(db, actor, user_id=target_id, role=own)
            results.append("removed")
        except (InvalidInput, PermissionDenied):
            results.append("refused")

    threads = [threading.Thread(target=remove, args=(a, b)), threading.Thread(target=remove, args=(b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["refused", "removed"]
    with db.transaction(write=False) as session:
        holders = [uid for uid in (a, b) if own in memberships.grants_of(session, uid)]
    assert len(holders) == 1


def test_role_changes_are_audited_with_old_and_new_roles(db, place, make_user):
    root = _principal(db, make_user("root@example.test", staff=("system_admin",)))
    target = make_user("t@example.test")
    role = Grant(Role.ACCOUNT_USER, account_id=place.a1)
    memberships.grant(db, root, user_id=target, role=role)
    memberships.change_role(db, root, user_id=target, old=role,
                            new=Grant(Role.ACCOUNT_ADMIN, account_id=place.a1))
    with db.transaction(write=False) as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.target_id == str(target)).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["user.role_granted", "user.role_changed"]
    assert events[1].details["old_roles"] == [{"role": "account_user", "account_id": place.a1}]
    assert events[1].details["new_roles"] == [{"role": "account_admin", "account_id": place.a1}]
    assert events[1].actor_email == "root@example.test"
