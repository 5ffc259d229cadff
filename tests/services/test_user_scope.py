"""Who may unlock, deactivate and look up whom: every admin stays inside their own scope.

Each refusal is seen as an attacker would: PermissionDenied, exactly one `permission.denied`
audit event naming the actor, the target and the attempted action, and no change to the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import Account, AuditEvent, Provider, ProviderGroup, StaffRole, User
from services import clock, principals
from services.errors import DomainError, InvalidInput, NotFound, PermissionDenied, SessionEnded
from services.identity import auth, sessions, users
from services.organizations import npi
from services.principals import Principal
from tests.conftest import PASSWORD

NOT_FOUND = "No user with that email address in your scope."


def _npi(serial: int) -> str:
    first_nine = f"1{serial:08d}"
    return first_nine + npi.check_digit(first_nine)


@dataclass
class Org:
    """Ids of everything the scope tests need: accounts, groups, providers and users by name."""

    acme: int
    payco: int
    g1: int
    g2: int
    p1a: int
    p1b: int
    p2a: int
    user: dict[str, int]


EXTERNAL = ("gadmin1", "gadmin2", "gadmin1_also_staff", "padmin1a", "staff1a", "staff1b",
            "staff2a", "both_groups", "acct_admin1", "acct_user1", "acct_user2", "acct_both",
            "mixed", "no_memberships")
STAFF = ("support", "account_rep", "privacy", "manager", "sysadmin")
EVERYONE = EXTERNAL + STAFF

# Whom each admin may manage (never themselves: that is a separate rule).
REACH = {
    "gadmin1": {"gadmin1_also_staff", "padmin1a", "staff1a", "staff1b"},
    "padmin1a": {"staff1a"},
    "acct_admin1": {"acct_user1"},
    "account_rep": {"acct_admin1", "acct_user1", "acct_user2", "acct_both"},
    "support": set(EXTERNAL),
    "sysadmin": set(EVERYONE) - {"sysadmin"},
}
NO_USER_ADMINISTRATION = ("staff1a", "acct_user1", "privacy", "manager")


@pytest.fixture
def org(db, make_user) -> Org:
    now = clock.now()
    with db.transaction() as session:
        acme = Account(name="Acme Freight", kind="employer", created_at=now)
        payco = Account(name="Payco Mutual", kind="payor", created_at=now)
        tpa = Account(name="Claims Partners", kind="tpa", created_at=now)
        g1 = ProviderGroup(name="Northside Clinics", npi=_npi(1), created_at=now)
        g2 = ProviderGroup(name="Southside Clinics", npi=_npi(2), created_at=now)
        session.add_all([acme, payco, tpa, g1, g2])
        session.flush()
        p1a = Provider(group_id=g1.id, name="Northside Main", npi=_npi(11))
        p1b = Provider(group_id=g1.id, name="Northside East", npi=_npi(12))
        p2a = Provider(group_id=g2.id, name="Southside Main", npi=_npi(21))
        session.add_all([p1a, p1b, p2a])
        session.flush()
        ids = dict(acme=acme.id, payco=payco.id, g1=g1.id, g2=g2.id, p1a=p1a.id, p1b=p1b.id, p2a=p2a.id)
    a1, a2, g1_, g2_ = ids["acme"], ids["payco"], ids["g1"], ids["g2"]
    p1a_, p1b_, p2a_ = ids["p1a"], ids["p1b"], ids["p2a"]
    specs = {
        "gadmin1": dict(provider=((g1_, None, "provider_group_admin"),)),
        "gadmin2": dict(provider=((g2_, None, "provider_group_admin"),)),
        "gadmin1_also_staff": dict(provider=((g1_, None, "provider_group_admin"),
                                             (g1_, p1a_, "provider_staff"))),
        "padmin1a": dict(provider=((g1_, p1a_, "provider_admin"),)),
        "staff1a": dict(provider=((g1_, p1a_, "provider_staff"),)),
        "staff1b": dict(provider=((g1_, p1b_, "provider_staff"),)),
        "staff2a": dict(provider=((g2_, p2a_, "provider_staff"),)),
        "both_groups": dict(provider=((g1_, p1a_, "provider_staff"), (g2_, p2a_, "provider_staff"))),
        "acct_admin1": dict(accounts=((a1, "account_admin"),)),
        "acct_user1": dict(accounts=((a1, "account_user"),)),
        "acct_user2": dict(accounts=((a2, "account_user"),)),
        "acct_both": dict(accounts=((a1, "account_user"), (a2, "account_user"))),
        "mixed": dict(provider=((g1_, p1a_, "provider_staff"),), accounts=((a1, "account_user"),)),
        "no_memberships": {},
        "support": dict(staff=("support_rep",)),
        "account_rep": dict(staff=("account_rep",)),
        "privacy": dict(staff=("privacy_officer",)),
        "manager": dict(staff=("manager",)),
        "sysadmin": dict(staff=("system_admin",)),
    }
    user_ids = {name: make_user(f"{name}@x.test", name=name, **spec) for name, spec in specs.items()}
    return Org(user=user_ids, **ids)


def _principal(db, user_id: int) -> Principal:
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _state(db, user_id: int):
    with db.transaction(write=False) as session:
        user = session.get(User, user_id)
        return user.status, user.failed_attempts, user.locked_until


def _lock(db, user_id: int) -> None:
    with db.transaction() as session:
        user = session.get(User, user_id)
        user.status, user.failed_attempts = "locked", 3
        user.locked_until = clock.now() + timedelta(minutes=30)


def _events(db, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    with db.transaction(write=False) as session:
        return list(session.scalars(query))


def _event_count(db) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def _assert_refused(db, actor: Principal, operation, target_id: int, action: str) -> None:
    """The operation raises PermissionDenied, writes exactly one denial event and changes nothing."""
    before_state = _state(db, target_id)
    before_events = _events(db)
    with pytest.raises(PermissionDenied) as refused:
        operation(db, actor, user_id=target_id)
    assert str(refused.value) == "You do not have permission to do that."
    after_events = _events(db)
    assert len(after_events) == len(before_events) + 1, [e.action for e in after_events[len(before_events):]]
    denial = after_events[-1]
    assert (denial.action, denial.outcome) == ("permission.denied", "denied")
    assert (denial.actor_user_id, denial.actor_email) == (actor.user_id, actor.email)
    assert (denial.target_type, denial.target_id) == ("user", str(target_id))
    assert denial.details == {"action": action}
    assert _state(db, target_id) == before_state


@pytest.mark.parametrize("actor_name", sorted(REACH))
def test_each_admin_reaches_exactly_their_scope(db, org, fake_clock, actor_name):
    actor = _principal(db, org.user[actor_name])
    targets = [name for name in EVERYONE if name != actor_name]
    for name in targets:
        _lock(db, org.user[name])
    reachable = REACH[actor_name]

    listed = {summary.id for summary in users.locked_users(db, actor)}
    assert listed == {org.user[name] for name in reachable}

    for name in targets:
        target_id = org.user[name]
        if name in reachable:
            assert users.find_by_email(db, actor, email=f"{name}@x.test").id == target_id
            users.unlock(db, actor, user_id=target_id)
            assert _state(db, target_id) == ("active", 0, None)
            users.deactivate(db, actor, user_id=target_id)
            assert _state(db, target_id)[0] == "deactivated"
        else:
            with pytest.raises(NotFound) as hidden:
                users.find_by_email(db, actor, email=f"{name}@x.test")
            assert str(hidden.value) == NOT_FOUND
            _assert_refused(db, actor, users.unlock, target_id, "unlock_users")
            _assert_refused(db, actor, users.deactivate, target_id, "manage_users")
            _assert_refused(db, actor, users.reactivate, target_id, "manage_users")
            _assert_refused(db, actor, users.end_sessions, target_id, "manage_users")
            assert _state(db, target_id)[0] == "locked"

    unlocked = _events(db, "user.unlocked")
    deactivated = _events(db, "user.deactivated")
    assert sorted(int(e.target_id) for e in unlocked) == sorted(org.user[n] for n in reachable)
    assert sorted(int(e.target_id) for e in deactivated) == sorted(org.user[n] for n in reachable)
    assert {(e.actor_user_id, e.outcome) for e in unlocked + deactivated} <= {(actor.user_id, "success")}
    denials = _events(db, "permission.denied")
    # Four refused actions per unreachable user, plus the refused lookup by email.
    assert len(denials) == 5 * (len(targets) - len(reachable))


@pytest.mark.parametrize("actor_name", NO_USER_ADMINISTRATION)
def test_roles_without_user_administration_are_refused_everything(db, org, fake_clock, actor_name):
    actor = _principal(db, org.user[actor_name])
    colleague = org.user["staff1b" if actor_name == "staff1a" else "acct_both"]
    _lock(db, colleague)

    _assert_refused(db, actor, users.unlock, colleague, "unlock_users")
    _assert_refused(db, actor, users.deactivate, colleague, "manage_users")
    _assert_refused(db, actor, users.reactivate, colleague, "manage_users")
    # Signing someone else out is user administration too.
    _assert_refused(db, actor, users.end_sessions, colleague, "manage_users")

    for probe in (lambda: users.locked_users(db, actor),
                  lambda: users.find_by_email(db, actor, email="staff1b@x.test")):
        before = _event_count(db)
        with pytest.raises(PermissionDenied):
            probe()
        [denial] = _events(db)[before:]
        assert (denial.action, denial.outcome, denial.actor_user_id, denial.actor_email) == (
            "permission.denied", "denied", actor.user_id, actor.email)
        assert denial.target_type == "user" and denial.details["action"] in ("unlock_users", "manage_users")
    assert _state(db, colleague)[0] == "locked"


def test_group_admin_signed_in_manages_own_group_but_not_a_user_shared_with_another_group(db, org, fake_clock):
    admin = auth.sign_in(db, email="gadmin1@x.test", password=PASSWORD).principal
    users.deactivate(db, admin, user_id=org.user["staff1b"])
    assert _state(db, org.user["staff1b"])[0] == "deactivated"
    users.reactivate(db, admin, user_id=org.user["staff1b"])
    assert _state(db, org.user["staff1b"])[0] == "active"
    _assert_refused(db, admin, users.deactivate, org.user["both_groups"], "manage_users")
    _assert_refused(db, admin, users.deactivate, org.user["staff2a"], "manage_users")
    _assert_refused(db, admin, users.deactivate, org.user["gadmin2"], "manage_users")


def test_provider_admin_never_reaches_a_group_admin_even_one_with_a_membership_at_their_provider(db, org, fake_clock):
    admin = _principal(db, org.user["padmin1a"])
    for target in ("gadmin1", "gadmin1_also_staff", "staff1b"):
        _assert_refused(db, admin, users.deactivate, org.user[target], "manage_users")
    users.deactivate(db, admin, user_id=org.user["staff1a"])
    assert _state(db, org.user["staff1a"])[0] == "deactivated"


def test_a_deactivation_ends_the_targets_sessions_but_a_refused_one_ends_none(db, org, fake_clock):
    with db.transaction() as session:
        tokens = {name: sessions.start(session, user=session.get(User, org.user[name]), now=clock.now())
                  for name in ("staff1a", "staff2a")}
    admin = _principal(db, org.user["gadmin1"])
    _assert_refused(db, admin, users.deactivate, org.user["staff2a"], "manage_users")
    assert sessions.resume(db, tokens["staff2a"]).user_id == org.user["staff2a"]
    users.deactivate(db, admin, user_id=org.user["staff1a"])
    with pytest.raises(SessionEnded):
        sessions.resume(db, tokens["staff1a"])


@pytest.mark.parametrize("actor_name", ["gadmin1", "padmin1a", "acct_admin1", "account_rep", "support",
                                        "sysadmin"])
def test_nobody_can_deactivate_themselves(db, org, fake_clock, actor_name):
    actor = _principal(db, org.user[actor_name])
    with pytest.raises(DomainError) as refused:
        users.deactivate(db, actor, user_id=actor.user_id)
    assert isinstance(refused.value, (InvalidInput, PermissionDenied))
    assert _state(db, actor.user_id) == ("active", 0, None)
    assert _events(db, "user.deactivated") == []


def test_find_by_email_answers_out_of_scope_and_unknown_alike(db, org, fake_clock):
    admin = _principal(db, org.user["gadmin1"])
    found = users.find_by_email(db, admin, email="  STAFF1B@X.test ")
    assert (found.id, found.email, found.status) == (org.user["staff1b"], "staff1b@x.test", "active")
    messages = set()
    probes = ("staff2a@x.test", "sysadmin@x.test", "acct_user1@x.test", "nobody@x.test", "")
    before = _event_count(db)
    for email in probes:
        with pytest.raises(NotFound) as hidden:
            users.find_by_email(db, admin, email=email)
        messages.add(str(hidden.value))
    assert messages == {NOT_FOUND}
    # The admin learns nothing, the audit trail records every refused lookup.
    refused = _events(db)[before:]
    assert [(e.action, e.actor_user_id) for e in refused] == [("permission.denied", admin.user_id)] * len(probes)


def test_unknown_user_id_is_refused_like_an_out_of_scope_one(db, org, fake_clock):
    admin = _principal(db, org.user["gadmin1"])
    before = _event_count(db)
    unknown, elsewhere = max(org.user.values()) + 100, org.user["staff2a"]
    refusals = []
    for user_id in (unknown, elsewhere):
        with pytest.raises(PermissionDenied) as refused:
            users.deactivate(db, admin, user_id=user_id)
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1]
    assert _event_count(db) == before + 2  # both refusals audited, nothing else written


def _counts(db) -> tuple[int, int, int]:
    with db.transaction(write=False) as session:
        return (session.scalar(select(func.count()).select_from(User)),
                session.scalar(select(func.count()).select_from(StaffRole)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


@pytest.mark.parametrize("password", ["x" * 11, "y" * 65, "", "z" * 200])
def test_first_admin_refuses_a_password_outside_12_to_64_characters(db, fake_clock, password):
    with pytest.raises(InvalidInput) as refused:
        users.create_first_admin(db, email="root@x.test", name="Root", password=password)
    assert "12 to 64" in str(refused.value)
    assert _counts(db) == (0, 0, 0)


@pytest.mark.parametrize("length", [12, 64])
def test_first_admin_is_created_once_and_a_second_is_refused(db, fake_clock, length):
    password = ("Pw-7" * 20)[:length]  # meets the composition rule at both lengths
    admin_id = users.create_first_admin(db, email=" Root@X.test ", name=" Root ", password=password)
    with db.transaction(write=False) as session:
        admin = session.get(User, admin_id)
        roles = session.scalars(select(StaffRole.role).where(StaffRole.user_id == admin_id)).all()
    assert (admin.email, admin.name, admin.status, roles) == ("root@x.test", "Root", "active", ["system_admin"])
    [created] = _events(db, "user.created")
    assert created.target_id == str(admin_id) and password not in repr(created.details)

    before = _counts(db)
    for email in ("second@x.test", "root@x.test"):
        with pytest.raises(InvalidInput) as refused:
            users.create_first_admin(db, email=email, name="Second", password="Another-password-1")
        assert "already exists" in str(refused.value)
    assert _counts(db) == before


def test_first_admin_is_refused_when_a_system_admin_was_made_another_way(db, make_user, fake_clock):
    make_user("existing@x.test", staff=("system_admin",))
    before = _counts(db)
    with pytest.raises(InvalidInput):
        users.create_first_admin(db, email="root@x.test", name="Root", password="Long-enough-pw-1")
    assert _counts(db) == before
