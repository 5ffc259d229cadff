"""Every reach is written twice in services/reach.py (and reports/scope.py): as the SQL condition
lists start from and as the Python check an operation on one id makes. For every person of a
realistic world, both forms must select exactly the same providers, client accounts, people,
invitations and reports; otherwise a list would show what an operation refuses, or hide what
it allows. Runs on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Account, Provider, Report, ReportRecipient, RoleInvitation, User
from services import clock, principals, reach
from services.errors import PermissionDenied
from services.identity import role_invitations
from services.policy import ACCOUNT_ROLES, PROVIDER_ROLES, STAFF_ROLES, Action, Grant, Role
from services.reports import scope

# People beside the report world's own: the kinds of person the membership matrix names (in
# two groups or two accounts, on both sides, an admin of each kind, nobody at all).
EXTRA_PEOPLE = {
    "sysadmin": dict(staff=("system_admin",)),
    "gadmin_south": dict(provider=(("south", None, "provider_group_admin"),)),
    "admin_p1a": dict(provider=(("north", "p1a", "provider_admin"),)),
    "acme_admin": dict(accounts=(("acme", "account_admin"),)),
    "payco_admin_acme_user": dict(accounts=(("payco", "account_admin"), ("acme", "account_user"))),
    "p1a_and_p2a": dict(provider=(("north", "p1a", "provider_staff"),
                                  ("south", "p2a", "provider_staff"))),
    "p1b_and_acme": dict(provider=(("north", "p1b", "provider_staff"),),
                         accounts=(("acme", "account_user"),)),
    "acme_globex": dict(accounts=(("acme", "account_user"), ("globex", "account_user"))),
    "gadmin_north_and_p2a": dict(provider=(("north", None, "provider_group_admin"),
                                           ("south", "p2a", "provider_staff"))),
    "no_role": dict(),
}


def _add_people(world, make_user) -> None:
    for key, spec in EXTRA_PEOPLE.items():
        kwargs = {}
        if "staff" in spec:
            kwargs["staff"] = spec["staff"]
        if "accounts" in spec:
            kwargs["accounts"] = tuple((world.account[a], r) for a, r in spec["accounts"])
        if "provider" in spec:
            kwargs["provider"] = tuple((world.group[g], None if p is None else world.provider[p], r)
                                       for g, p, r in spec["provider"])
        world.user[key] = make_user(f"{key}@x.test", name=key, **kwargs)


def _every_grant(session) -> list[Grant]:
    grants = [Grant(role) for role in Role if role in STAFF_ROLES]
    for provider in session.scalars(select(Provider)):
        grants.append(Grant(Role.PROVIDER_GROUP_ADMIN, group_id=provider.group_id))
        grants += [Grant(role, group_id=provider.group_id, provider_id=provider.id)
                   for role in PROVIDER_ROLES if role != Role.PROVIDER_GROUP_ADMIN]
    for account_id in session.scalars(select(Account.id)):
        grants += [Grant(role, account_id=account_id) for role in ACCOUNT_ROLES]
    return list(dict.fromkeys(grants))


def _invite_to_every_role(db, inviter_id: int) -> None:
    now = clock.now()
    with db.transaction() as session:
        for n, grant in enumerate(_every_grant(session)):
            session.add(RoleInvitation(
                email=f"invited{n}@x.test", name="Invited", role=grant.role,
                group_id=grant.group_id, provider_id=grant.provider_id, account_id=grant.account_id,
                inviter_user_id=inviter_id, inviter_name="Inviter", token_hash=f"{n:064d}",
                created_at=now, expires_at=now + timedelta(days=2), status="pending"))


@pytest.fixture
def people(db, world, make_user):
    """The report world, more people, a pending invitation to every role at every place, and
    every user's principal."""
    _add_people(world, make_user)
    _invite_to_every_role(db, world.user["sysadmin"])
    with db.transaction(write=False) as session:
        return [principals.load(session, user) for user in session.scalars(select(User))]


def test_the_world_has_every_kind_of_person(people):
    roles = set().union(*(p.roles for p in people))
    assert roles == set(Role)
    assert any(not p.roles for p in people)


def test_providers_in_reach_agree(db, people):
    with db.transaction(write=False) as session:
        every = session.execute(select(Provider.id, Provider.group_id)).all()
        for principal in people:
            by_sql = set(session.scalars(select(Provider.id).where(
                reach.provider_condition(principal))))
            by_python = {pid for pid, gid in every
                         if reach.reaches_provider(principal, pid, gid)}
            as_ids = reach.provider_ids(session, principal)
            assert by_sql == by_python, principal.email
            assert by_sql == ({pid for pid, _ in every} if as_ids is None else as_ids), principal.email


def test_client_accounts_in_reach_agree(db, people):
    with db.transaction(write=False) as session:
        every = set(session.scalars(select(Account.id)))
        for principal in people:
            by_sql = set(session.scalars(select(Account.id).where(
                reach.account_condition(principal))))
            as_ids = reach.account_ids(principal)
            assert by_sql == (every if as_ids is None else as_ids), principal.email


def test_people_on_the_users_list_agree(db, people):
    with db.transaction(write=False) as session:
        targets = {user_id: reach.of_user(session, user_id)
                   for user_id in session.scalars(select(User.id))}
        for principal in people:
            by_sql = set(session.scalars(select(User.id).where(reach.user_condition(principal))))
            by_python = {uid for uid, target in targets.items()
                         if reach.lists_user(principal, target)}
            assert by_sql == by_python, principal.email
            if principal.can(Action.MANAGE_USERS):
                # Listed are exactly the people an admin may act on or see a role of.
                admitted = {uid for uid, target in targets.items()
                            if reach.may_manage_user(principal, target)
                            or reach.visible_roles(principal, target, target.grants)}
                assert by_sql == admitted, principal.email


def test_invitations_an_admin_may_handle_agree(db, people):
    with db.transaction(write=False) as session:
        invitations = list(session.scalars(select(RoleInvitation)))
        for principal in people:
            by_sql = set(session.scalars(select(RoleInvitation.id).where(reach.grant_condition(
                principal, RoleInvitation.role, RoleInvitation.group_id,
                RoleInvitation.provider_id, RoleInvitation.account_id))))
            by_python = {invitation.id for invitation in invitations
                         if reach.may_grant(principal, role_invitations.grant_of(invitation))}
            assert by_sql == by_python, principal.email


def test_reports_in_view_agree(db, people):
    with db.transaction(write=False) as session:
        group_of = dict(session.execute(select(Provider.id, Provider.group_id)).all())
        routed: dict[int, set[int]] = {}
        for report_id, account_id in session.execute(
                select(ReportRecipient.report_id, ReportRecipient.account_id)):
            routed.setdefault(report_id, set()).add(account_id)
        reports = list(session.scalars(select(Report)))
        for principal in people:
            if not principal.can(Action.VIEW_REPORTS):
                with pytest.raises(PermissionDenied):
                    scope.visible(session, principal)
                continue
            by_sql = set(session.scalars(select(Report.id).where(scope.visible(session, principal))))
            by_python = {report.id for report in reports if scope.sees(
                principal, report, group_id=group_of[report.provider_id],
                routed_to_accounts=frozenset(routed.get(report.id, ())))}
            assert by_sql == by_python, principal.email
