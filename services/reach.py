"""Over which providers, client accounts, people and roles a principal's roles reach.

services/policy.py says what a role may do; this module says where. Each reach is written
twice, side by side: as a SQL condition that queries start from (so a list never reads rows
outside it) and as a Python check of one target (so an operation naming one id is refused
exactly like a list that never showed it). tests/services/test_reach_forms_agree.py checks
that both forms select the same rows on SQLite and PostgreSQL; change them together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true, union
from sqlalchemy.orm import Session

from db.models import Account, AccountMembership, Membership, Provider, StaffRole, User
from services.policy import ACCOUNT_ROLES, PROVIDER_ROLES, Grant, Role
from services.principals import Principal

# --- providers and client accounts -------------------------------------------------------------


def _provider_places(principal: Principal) -> tuple[set[int], set[int]]:
    """(providers, groups) named by the principal's links: every provider they belong to, and
    the groups they administer (the whole group). They see and post reports for these."""
    groups = set(principal.administered_groups)
    return {link.provider_id for link in principal.provider_links
            if link.provider_id is not None}, groups


def provider_condition(principal: Principal) -> ColumnElement[bool]:
    """SQL form: the Provider rows in reach (every provider for staff; none for nobody)."""
    if principal.is_staff:
        return true()
    ids, groups = _provider_places(principal)
    parts = ([Provider.id.in_(sorted(ids))] if ids else []) + (
        [Provider.group_id.in_(sorted(groups))] if groups else [])
    return or_(*parts) if parts else false()


def reaches_provider(principal: Principal, provider_id: int, group_id: int) -> bool:
    """Python form of provider_condition, for one provider of one group."""
    if principal.is_staff:
        return True
    ids, groups = _provider_places(principal)
    return provider_id in ids or group_id in groups


def provider_ids(session: Session, principal: Principal) -> frozenset[int] | None:
    """The providers in reach as ids (None: all of them, for staff): whose reports the principal
    sees and, with the upload action, posts (a group admin: every provider of the group)."""
    if principal.is_staff:
        return None
    ids, groups = _provider_places(principal)
    if not groups:
        return frozenset(ids)  # the links name them: no query needed
    return frozenset(session.scalars(
        select(Provider.id).where(provider_condition(principal))))


def account_condition(principal: Principal) -> ColumnElement[bool]:
    """SQL form: the client Account rows whose routed reports the principal sees."""
    ids = account_ids(principal)
    if ids is None:
        return true()
    return Account.id.in_(sorted(ids)) if ids else false()


def account_ids(principal: Principal) -> frozenset[int] | None:
    """Python form of account_condition (None: all, for staff)."""
    if principal.is_staff:
        return None
    return frozenset(link.account_id for link in principal.account_links)


# --- roles at places -------------------------------------------------------------------------


def may_grant(actor: Principal, grant: Grant) -> bool:
    """Whether an actor may give (or take away) this role: never more than they hold.

    Staff roles: system admins only. Provider roles: system admins and support reps anywhere;
    a provider group admin any provider role in their group; a provider admin the admin and
    staff roles of their own provider. Client roles: system admins, support and account reps
    anywhere; a client account admin either client role in their account.
    """
    staff = actor.staff_roles
    if Role.SYSTEM_ADMIN in staff:
        return True
    if grant.kind == "staff":
        return False
    if grant.kind == "provider":
        if Role.SUPPORT_REP in staff:
            return True
        if grant.group_id in actor.administered_groups:
            return True
        return (grant.role != Role.PROVIDER_GROUP_ADMIN
                and grant.provider_id in actor.administered_providers)
    if staff & {Role.SUPPORT_REP, Role.ACCOUNT_REP}:
        return True
    return grant.account_id in actor.administered_accounts


def grant_condition(actor: Principal, role, group_id, provider_id,
                    account_id) -> ColumnElement[bool]:
    """SQL form of may_grant over rows naming a role and its place (the given columns)."""
    staff = actor.staff_roles
    if Role.SYSTEM_ADMIN in staff:
        return true()
    provider_role, account_role = role.in_(PROVIDER_ROLES), role.in_(ACCOUNT_ROLES)
    parts = []
    if Role.SUPPORT_REP in staff:
        parts.append(provider_role)
    else:
        if actor.administered_groups:
            parts.append(provider_role & group_id.in_(sorted(actor.administered_groups)))
        if actor.administered_providers:
            parts.append(provider_role & (role != Role.PROVIDER_GROUP_ADMIN)
                         & provider_id.in_(sorted(actor.administered_providers)))
    if staff & {Role.SUPPORT_REP, Role.ACCOUNT_REP}:
        parts.append(account_role)
    elif actor.administered_accounts:
        parts.append(account_role & account_id.in_(sorted(actor.administered_accounts)))
    return or_(*parts) if parts else false()


# --- people ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserReach:
    """Where a person's access lies: the target of every check on a person."""

    staff_roles: frozenset[Role]
    provider_links: tuple[tuple[int, int | None, Role], ...]
    account_ids: tuple[int, ...]
    account_roles: tuple[Role, ...] = ()

    @property
    def grants(self) -> list[Grant]:
        return ([Grant(role) for role in sorted(self.staff_roles)]
                + [Grant(role, group_id=g, provider_id=p) for g, p, role in self.provider_links]
                + [Grant(role, account_id=a)
                   for a, role in zip(self.account_ids, self.account_roles)])


def of_user(session: Session, user_id: int) -> UserReach:
    staff = session.scalars(select(StaffRole.role).where(StaffRole.user_id == user_id)).all()
    links = session.execute(select(Membership.group_id, Membership.provider_id, Membership.role)
                            .where(Membership.user_id == user_id)).all()
    accounts = session.execute(select(AccountMembership.account_id, AccountMembership.role)
                               .where(AccountMembership.user_id == user_id)).all()
    return UserReach(frozenset(Role(r) for r in staff),
                     tuple((g, p, Role(r)) for g, p, r in links),
                     tuple(a for a, _ in accounts),
                     tuple(Role(r) for _, r in accounts))


def may_manage_user(actor: Principal, target: UserReach, *, removing: Grant | None = None) -> bool:
    """Whether an actor may act on this person: the one rule for every operation naming a user.

    Staff accounts are for system admins only. Support reps reach every external user, account
    reps every user who belongs only to client accounts. A provider or client admin reaches a
    user only when every one of that user's memberships lies inside the admin's own groups,
    providers or accounts, so an admin of one clinic can never lock out, unlock, rename or give
    a role to someone whose access lies partly elsewhere (that person is added through an
    invitation they accept instead).

    `removing`: the one exception. An admin may take away a role at a place they administer
    from a person who also belongs elsewhere (never from a staff user): it narrows that
    person's access to the admin's own place and touches nothing outside it. Role operations
    also ask may_grant for the role itself.
    """
    if _reaches_whole_user(actor, target):
        return True
    return (removing is not None and not target.staff_roles and holds(target, removing)
            and may_grant(actor, removing))


def _reaches_whole_user(actor: Principal, target: UserReach) -> bool:
    if Role.SYSTEM_ADMIN in actor.staff_roles:
        return True
    if target.staff_roles:
        return False
    if Role.SUPPORT_REP in actor.staff_roles:
        return True
    if Role.ACCOUNT_REP in actor.staff_roles and not target.provider_links and target.account_ids:
        return True
    admin_groups = actor.administered_groups
    admin_providers = actor.administered_providers
    admin_accounts = actor.administered_accounts
    if not (admin_groups or admin_providers or admin_accounts):
        return False
    if not (target.provider_links or target.account_ids):
        return False
    covers_providers = all(
        group_id in admin_groups or (provider_id is not None and provider_id in admin_providers
                                     and role != Role.PROVIDER_GROUP_ADMIN)
        for group_id, provider_id, role in target.provider_links
    )
    return covers_providers and set(target.account_ids) <= admin_accounts


def holds(target: UserReach, grant: Grant) -> bool:
    """Whether the person holds exactly this role at this place."""
    if grant.kind == "staff":
        return grant.role in target.staff_roles
    if grant.kind == "provider":
        return (grant.group_id, grant.provider_id, grant.role) in target.provider_links
    return (grant.account_id, grant.role) in zip(target.account_ids, target.account_roles)


def visible_roles(actor: Principal, target: UserReach, grants: list[Grant]) -> list[Grant]:
    """The roles of a person an admin may see: all of them for a person wholly in reach; for a
    person who also belongs elsewhere, only those at the admin's own places; else none."""
    if _reaches_whole_user(actor, target):
        return list(grants)
    if target.staff_roles:
        return []
    return [grant for grant in grants if grant.kind != "staff" and may_grant(actor, grant)]


def lists_user(actor: Principal, target: UserReach) -> bool:
    """Python form of user_condition, for one person."""
    staff = actor.staff_roles
    if Role.SYSTEM_ADMIN in staff:
        return True
    if target.staff_roles:
        return False
    if Role.SUPPORT_REP in staff:
        return True
    if Role.ACCOUNT_REP in staff:
        return bool(target.account_ids)
    return (any(group_id in actor.administered_groups or provider_id in actor.administered_providers
                for group_id, provider_id, _ in target.provider_links)
            or bool(set(target.account_ids) & actor.administered_accounts))


def user_condition(actor: Principal) -> ColumnElement[bool]:
    """SQL form: the User rows on an admin's Users list and among their locked accounts.

    A scoped admin sees everyone sharing a group, provider or account with them (a person who
    also belongs elsewhere shows only the roles visible_roles allows); an account rep everyone
    in a client account; support every external user; nobody but system admins a staff user.
    Operations on one person still ask may_manage_user.
    """
    staff = actor.staff_roles
    if Role.SYSTEM_ADMIN in staff:
        return true()
    not_staff = ~exists().where(StaffRole.user_id == User.id)
    if Role.SUPPORT_REP in staff:
        return not_staff
    if Role.ACCOUNT_REP in staff:
        return and_(User.id.in_(select(AccountMembership.user_id)), not_staff)
    near = union(
        select(Membership.user_id).where(Membership.group_id.in_(actor.administered_groups)),
        select(Membership.user_id).where(Membership.provider_id.in_(actor.administered_providers)),
        select(AccountMembership.user_id)
        .where(AccountMembership.account_id.in_(actor.administered_accounts)),
    )
    return and_(User.id.in_(near), not_staff)
