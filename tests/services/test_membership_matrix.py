"""Every admin role against every kind of person for every operation that names a person.

The expected outcomes are the table below, written by hand from docs/roles.md, not computed by
services/policy.py. "ok" means done, "no" a PermissionDenied with exactly one audited
`permission.denied` and no change, "bad" a refusal as input (InvalidInput) with no change.
Invitations name an address, not a person: they must come out the same for every target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import (
    Account,
    AccountMembership,
    AuditEvent,
    Membership,
    Provider,
    ProviderGroup,
    RoleInvitation,
    StaffRole,
    User,
)
from services import clock, principals
from services.errors import InvalidInput, PermissionDenied
from services.identity import memberships, role_invitations, users
from services.policy import Grant, Role

TARGETS = ("in_p1a", "in_p1b", "in_g2", "in_a1", "in_a2", "p1a_g2", "a1_a2", "staff", "sysadmin",
           "unknown")
ACTORS = ("system_admin", "support_rep", "account_rep", "group_admin", "provider_admin",
          "account_admin", "provider_staff")

# Targets:  in_p1a  provider staff at G1/P1a        in_a1   client user at A1
#           in_p1b  provider staff at G1/P1b        in_a2   client user at A2
#           in_g2   provider staff at G2/P2a        a1_a2   client user at A1 and at A2
#           p1a_g2  provider staff at P1a and P2a   staff   a support representative
#           sysadmin  a system admin                unknown an id nobody has
# Actors: group_admin of G1, provider_admin of P1a, account_admin of A1, provider_staff of P1a.
_TABLE = """
operation     actor           in_p1a in_p1b in_g2 in_a1 in_a2 p1a_g2 a1_a2 staff sysadmin unknown
grant         system_admin    ok     ok     ok    ok    ok    ok     ok    ok    ok       no
grant         support_rep     ok     ok     ok    ok    ok    ok     ok    no    no       no
grant         account_rep     no     no     no    ok    ok    no     ok    no    no       no
grant         group_admin     ok     ok     no    no    no    no     no    no    no       no
grant         provider_admin  bad    no     no    no    no    no     no    no    no       no
grant         account_admin   no     no     no    bad   no    no     no    no    no       no
grant         provider_staff  no     no     no    no    no    no     no    no    no       no
revoke        system_admin    ok     ok     ok    ok    ok    ok     ok    ok    ok       no
revoke        support_rep     ok     ok     ok    ok    ok    ok     ok    no    no       no
revoke        account_rep     no     no     no    ok    ok    no     ok    no    no       no
revoke        group_admin     ok     ok     no    no    no    ok     no    no    no       no
revoke        provider_admin  ok     no     no    no    no    ok     no    no    no       no
revoke        account_admin   no     no     no    ok    no    no     ok    no    no       no
revoke        provider_staff  no     no     no    no    no    no     no    no    no       no
change_role   system_admin    ok     ok     ok    ok    ok    ok     ok    ok    ok       no
change_role   support_rep     ok     ok     ok    ok    ok    ok     ok    no    no       no
change_role   account_rep     no     no     no    ok    ok    no     ok    no    no       no
change_role   group_admin     ok     ok     no    no    no    no     no    no    no       no
change_role   provider_admin  ok     no     no    no    no    no     no    no    no       no
change_role   account_admin   no     no     no    ok    no    no     no    no    no       no
change_role   provider_staff  no     no     no    no    no    no     no    no    no       no
invite        system_admin    ok     ok     ok    ok    ok    ok     ok    ok    ok       ok
invite        support_rep     ok     ok     ok    ok    ok    ok     ok    ok    ok       ok
invite        account_rep     ok     ok     ok    ok    ok    ok     ok    ok    ok       ok
invite        group_admin     ok     ok     ok    ok    ok    ok     ok    ok    ok       ok
invite        provider_admin  ok     ok     ok    ok    ok    ok     ok    ok    ok       ok
invite        account_admin   ok     ok     ok    ok    ok    ok     ok    ok    ok       ok
invite        provider_staff  no     no     no    no    no    no     no    no    no       no
user_level    system_admin    ok     ok     ok    ok    ok    ok     ok    ok    ok       no
user_level    support_rep     ok     ok     ok    ok    ok    ok     ok    no    no       no
user_level    account_rep     no     no     no    ok    ok    no     ok    no    no       no
user_level    group_admin     ok     ok     no    no    no    no     no    no    no       no
user_level    provider_admin  ok     no     no    no    no    no     no    no    no       no
user_level    account_admin   no     no     no    ok    no    no     no    no    no       no
user_level    provider_staff  no     no     no    no    no    no     no    no    no       no
"""


def _expected() -> dict[tuple[str, str], dict[str, str]]:
    lines = [line.split() for line in _TABLE.strip().splitlines()]
    header = lines[0][2:]
    assert tuple(header) == TARGETS
    return {(op, actor): dict(zip(header, cells, strict=True)) for op, actor, *cells in lines[1:]}


EXPECTED = _expected()
# "resend" and "cancel" act on the invitation the actor just sent: the same for every target.
USER_LEVEL = ("deactivate", "reactivate", "unlock", "delete", "edit_contact", "end_sessions")
OPERATIONS = ("grant", "revoke", "change_role", "invite", "resend", "cancel", *USER_LEVEL)


@dataclass
class World:
    g1: int
    p1a: int
    p1b: int
    g2: int
    p2a: int
    a1: int
    a2: int
    a3: int
    people: dict[str, int]


@pytest.fixture
def world(db, make_user) -> World:
    now = clock.now()
    with db.transaction() as session:
        g1 = ProviderGroup(name="North Clinics", npi="1000000004", created_at=now)
        g2 = ProviderGroup(name="South Clinics", npi="1000000012", created_at=now)
        accounts = [Account(name=n, kind="employer", created_at=now)
                    for n in ("Acme Freight", "Bolt Logistics", "Crane Works")]
        session.add_all([g1, g2, *accounts])
        session.flush()
        p1a = Provider(group_id=g1.id, name="North Main", npi="1000000020")
        p1b = Provider(group_id=g1.id, name="North East", npi="1000000038")
        p2a = Provider(group_id=g2.id, name="South Main", npi="1000000046")
        session.add_all([p1a, p1b, p2a])
        session.flush()
        w = World(g1.id, p1a.id, p1b.id, g2.id, p2a.id, *(a.id for a in accounts), {})
    specs = {
        "in_p1a": dict(provider=((w.g1, w.p1a, "provider_staff"),)),
        "in_p1b": dict(provider=((w.g1, w.p1b, "provider_staff"),)),
        "in_g2": dict(provider=((w.g2, w.p2a, "provider_staff"),)),
        "in_a1": dict(accounts=((w.a1, "account_user"),)),
        "in_a2": dict(accounts=((w.a2, "account_user"),)),
        "p1a_g2": dict(provider=((w.g1, w.p1a, "provider_staff"), (w.g2, w.p2a, "provider_staff"))),
        "a1_a2": dict(accounts=((w.a1, "account_user"), (w.a2, "account_user"))),
        "staff": dict(staff=("support_rep",)),
        "sysadmin": dict(staff=("system_admin",)),
        # The actors, and a second admin in each group so no "last group admin" rule interferes.
        "system_admin": dict(staff=("system_admin",)),
        "support_rep": dict(staff=("support_rep",)),
        "account_rep": dict(staff=("account_rep",)),
        "group_admin": dict(provider=((w.g1, None, "provider_group_admin"),)),
        "provider_admin": dict(provider=((w.g1, w.p1a, "provider_admin"),)),
        "account_admin": dict(accounts=((w.a1, "account_admin"),)),
        "provider_staff": dict(provider=((w.g1, w.p1a, "provider_staff"),)),
        "g2_admin": dict(provider=((w.g2, None, "provider_group_admin"),)),
    }
    w.people = {key: make_user(f"{key}@x.test", name=f"Real {key}", **spec)
                for key, spec in specs.items()}
    w.people["unknown"] = max(w.people.values()) + 1000
    return w


def _home_role(w: World, target: str) -> Grant:
    """The role a target holds that an operation names (for an unknown id: a role at P1a)."""
    return {
        "in_p1a": Grant(Role.PROVIDER_STAFF, group_id=w.g1, provider_id=w.p1a),
        "in_p1b": Grant(Role.PROVIDER_STAFF, group_id=w.g1, provider_id=w.p1b),
        "in_g2": Grant(Role.PROVIDER_STAFF, group_id=w.g2, provider_id=w.p2a),
        "in_a1": Grant(Role.ACCOUNT_USER, account_id=w.a1),
        "in_a2": Grant(Role.ACCOUNT_USER, account_id=w.a2),
        "p1a_g2": Grant(Role.PROVIDER_STAFF, group_id=w.g1, provider_id=w.p1a),
        "a1_a2": Grant(Role.ACCOUNT_USER, account_id=w.a1),
        "staff": Grant(Role.SUPPORT_REP),
        "sysadmin": Grant(Role.SYSTEM_ADMIN),
        "unknown": Grant(Role.PROVIDER_STAFF, group_id=w.g1, provider_id=w.p1a),
    }[target]


_SWAPPED = {Role.PROVIDER_STAFF: Role.PROVIDER_ADMIN, Role.ACCOUNT_USER: Role.ACCOUNT_ADMIN,
            Role.SUPPORT_REP: Role.ACCOUNT_REP, Role.SYSTEM_ADMIN: Role.MANAGER}


def _added_role(w: World, actor: str) -> Grant:
    """A role each actor may give (the control's is refused for lack of user administration)."""
    return {
        "system_admin": Grant(Role.PROVIDER_GROUP_ADMIN, group_id=w.g2),
        "support_rep": Grant(Role.PROVIDER_GROUP_ADMIN, group_id=w.g2),
        "account_rep": Grant(Role.ACCOUNT_USER, account_id=w.a3),
        "group_admin": Grant(Role.PROVIDER_GROUP_ADMIN, group_id=w.g1),
        "provider_admin": Grant(Role.PROVIDER_ADMIN, group_id=w.g1, provider_id=w.p1a),
        "account_admin": Grant(Role.ACCOUNT_ADMIN, account_id=w.a1),
        "provider_staff": Grant(Role.PROVIDER_STAFF, group_id=w.g1, provider_id=w.p1b),
    }[actor]


def _principal(db, user_id: int):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _snapshot(db) -> tuple:
    """Everything an operation on a person could change."""
    with db.transaction(write=False) as session:
        return (
            sorted(session.execute(select(User.id, User.name, User.phone, User.status,
                                          User.failed_attempts)).all()),
            sorted(session.execute(select(StaffRole.user_id, StaffRole.role)).all()),
            sorted(session.execute(select(Membership.user_id, Membership.group_id,
                                          Membership.provider_id, Membership.role)).all(),
                   key=repr),
            sorted(session.execute(select(AccountMembership.user_id, AccountMembership.account_id,
                                          AccountMembership.role)).all()),
        )


def _events(db) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _prepare(db, operation: str, user_id: int) -> None:
    """Put a target into the state the operation applies to (nothing for an unknown id)."""
    status = {"reactivate": "deactivated", "unlock": "locked"}.get(operation)
    if status is None:
        return
    with db.transaction() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.status, user.failed_attempts = status, 3 if status == "locked" else 0
            user.locked_until = clock.now() + timedelta(minutes=30) if status == "locked" else None


def _run(db, w: World, actor, actor_key: str, operation: str, target: str):
    user_id = w.people[target]
    home = _home_role(w, target)
    calls = {
        "grant": lambda: memberships.grant(db, actor, user_id=user_id, role=_added_role(w, actor_key)),
        "revoke": lambda: memberships.revoke(db, actor, user_id=user_id, role=home),
        "change_role": lambda: memberships.change_role(
            db, actor, user_id=user_id, old=home, new=Grant(_SWAPPED[home.role], group_id=home.group_id,
                                                             provider_id=home.provider_id,
                                                             account_id=home.account_id)),
        "deactivate": lambda: users.deactivate(db, actor, user_id=user_id),
        "reactivate": lambda: users.reactivate(db, actor, user_id=user_id),
        "unlock": lambda: users.unlock(db, actor, user_id=user_id),
        "delete": lambda: users.delete_or_deactivate(db, actor, user_id=user_id),
        "edit_contact": lambda: users.update_contact(db, actor, user_id=user_id, name="Renamed",
                                                     phone="555 0100"),
        "end_sessions": lambda: users.end_sessions(db, actor, user_id=user_id),
    }
    return calls[operation]()


def _check_person_operation(db, w, actor, actor_key, operation, target, expected) -> None:
    _prepare(db, operation, w.people[target])
    before, events = _snapshot(db), _events(db)
    if expected == "ok":
        _run(db, w, actor, actor_key, operation, target)
        assert _snapshot(db) != before or operation == "end_sessions", (operation, target)
        assert not any(e.action == "permission.denied" for e in _events(db)[len(events):])
        return
    error = PermissionDenied if expected == "no" else InvalidInput
    with pytest.raises(error) as refused:
        _run(db, w, actor, actor_key, operation, target)
    assert _snapshot(db) == before, (operation, target)
    written = _events(db)[len(events):]
    if expected == "no":
        assert str(refused.value) == "You do not have permission to do that."
        assert [(e.action, e.actor_user_id, e.target_type, e.target_id) for e in written] == [
            ("permission.denied", actor.user_id, "user", str(w.people[target]))], (operation, target)
    else:
        assert written == []


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("actor_key", ACTORS)
def test_every_admin_against_every_person(db, world, fake_clock, actor_key, operation):
    actor = _principal(db, world.people[actor_key])
    row = EXPECTED[("user_level" if operation in USER_LEVEL else
                    "invite" if operation in ("resend", "cancel") else operation, actor_key)]
    if operation in ("invite", "resend", "cancel"):
        _check_invitations(db, world, actor, actor_key, operation, row)
        return
    for target in TARGETS:
        _check_person_operation(db, world, actor, actor_key, operation, target, row[target])


def _address(world: World, target: str) -> str:
    return "nobody-here@x.test" if target == "unknown" else f"{target}@x.test"


def _check_invitations(db, w, actor, actor_key, operation, row) -> None:
    role = _added_role(w, actor_key)
    entries = []
    for target in TARGETS:
        before, events = _snapshot(db), _events(db)
        if row[target] == "no":
            with pytest.raises(PermissionDenied):
                role_invitations.invite(db, actor, email=_address(w, target), name="Typed Name",
                                        role=role)
            assert [e.action for e in _events(db)[len(events):]] == ["permission.denied"]
            assert _snapshot(db) == before
            continue
        answer = role_invitations.invite(db, actor, email=_address(w, target), name="Typed Name",
                                         role=role)
        assert isinstance(answer, int)
        if operation == "resend":
            role_invitations.resend(db, actor, invitation_id=answer)
        elif operation == "cancel":
            role_invitations.cancel(db, actor, invitation_id=answer)
        # Nothing about any person changed: no role, no name, no status.
        assert _snapshot(db) == before, target
        written = [(e.action, e.target_type) for e in _events(db)[len(events):]]
        assert written == [("invitation.sent", "invitation")] + {
            "invite": [], "resend": [("invitation.resent", "invitation")],
            "cancel": [("invitation.cancelled", "invitation")]}[operation]
        if operation != "cancel":
            [entry] = [r for r in role_invitations.waiting(db, actor) if r.id == answer]
            entries.append((entry.email.split("@")[0], entry))
    # The list entries differ only by the address: never by whether or whom it names.
    shapes = {(e.name, e.role, e.inviter, e.sent_at, e.expires_at, e.expired) for _, e in entries}
    assert len(shapes) <= 1
    assert all(e.name == "Typed Name" for _, e in entries)


def test_an_unknown_id_and_a_person_out_of_reach_get_the_same_refusal_audited_once(db, world):
    admin = _principal(db, world.people["group_admin"])
    role = Grant(Role.PROVIDER_STAFF, group_id=world.g1, provider_id=world.p1b)
    answers = []
    for target in ("unknown", "in_g2"):
        events = _events(db)
        with pytest.raises(PermissionDenied) as refused:
            memberships.grant(db, admin, user_id=world.people[target], role=role)
        written = _events(db)[len(events):]
        answers.append((type(refused.value), str(refused.value),
                        [(e.action, e.outcome, e.details) for e in written]))
    assert answers[0] == answers[1]
    assert answers[0][2] == [("permission.denied", "denied", {"action": "manage_users"})]


def test_an_invitation_out_of_reach_is_refused_like_an_unknown_one(db, world):
    g2_admin = _principal(db, world.people["g2_admin"])
    elsewhere = role_invitations.invite(db, g2_admin, email="someone@x.test", name="Sam",
                                        role=Grant(Role.PROVIDER_STAFF, group_id=world.g2,
                                                   provider_id=world.p2a))
    admin = _principal(db, world.people["group_admin"])
    assert role_invitations.waiting(db, admin) == []
    for invitation_id in (elsewhere, elsewhere + 1000):
        for action in (role_invitations.resend, role_invitations.cancel):
            events = _events(db)
            with pytest.raises(PermissionDenied):
                action(db, admin, invitation_id=invitation_id)
            assert [(e.action, e.target_type, e.target_id) for e in _events(db)[len(events):]] == [
                ("permission.denied", "invitation", str(invitation_id))]
    with db.transaction(write=False) as session:
        assert session.get(RoleInvitation, elsewhere).status == "pending"
        assert session.scalar(select(func.count()).select_from(RoleInvitation)) == 1


def test_a_person_partly_outside_reach_shows_only_the_roles_at_the_admins_place(db, world):
    admin = _principal(db, world.people["group_admin"])
    person = memberships.roles_of(db, admin, user_id=world.people["p1a_g2"])
    assert not person.whole
    assert [role for _, role in person.roles] == [_home_role(world, "p1a_g2")]
    with pytest.raises(PermissionDenied):
        memberships.roles_of(db, admin, user_id=world.people["in_g2"])
