"""Giving and taking roles: delegation exactly as services/reach.py says.

Every change checks both the role (reach.may_grant: never more than the admin holds) and the
person named (reach.may_manage_user: wholly inside the admin's reach, or, for a removal only,
holding that role at the admin's own place), keeps at least one group admin in every provider
group, and is audited with the old and new roles. People join through
services/identity/role_invitations.py. (Deactivating a user stays possible even for a group's last admin: stopping a
compromised account comes first; support then appoints a new admin.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import Account, AccountMembership, Membership, Provider, ProviderGroup, StaffRole, User
from services import audit, clock, policy, reach
from services.errors import InvalidInput
from services.mail import account_emails
from services.policy import Action, Grant, Role
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction

LAST_GROUP_ADMIN = "A provider group keeps at least one group admin: add another one first."


def grants_of(session: Session, user_id: int) -> list[Grant]:
    """Every role a user holds, as grants."""
    staff = [Grant(Role(r)) for r in session.scalars(
        select(StaffRole.role).where(StaffRole.user_id == user_id))]
    provider = [Grant(Role(m.role), group_id=m.group_id, provider_id=m.provider_id)
                for m in session.scalars(select(Membership).where(Membership.user_id == user_id))]
    account = [Grant(Role(m.role), account_id=m.account_id) for m in session.scalars(
        select(AccountMembership).where(AccountMembership.user_id == user_id))]
    return staff + provider + account


def grant(db: Database, principal: Principal, *, user_id: int, role: Grant) -> None:
    """Give a person already wholly in the admin's reach one more role."""
    with transaction(db) as session:
        grant_in(session, principal, user_id=user_id, role=role)


def grant_in(session: Session, principal: Principal, *, user_id: int, role: Grant) -> None:
    """grant, inside a caller's transaction (the caller checks what its own screen adds)."""
    require_role(session, principal, role, user_id)
    _target(session, principal, user_id)
    before = grants_of(session, user_id)
    if role in before:
        raise InvalidInput("The user already has that role there.")
    add_role(session, user_id, role)
    _audit(session, principal, user_id, "user.role_granted", before, role)


def revoke(db: Database, principal: Principal, *, user_id: int, role: Grant) -> None:
    """Take one role away; the last group admin of a group cannot be removed."""
    with transaction(db) as session:
        revoke_in(db, session, principal, user_id=user_id, role=role)


def revoke_in(db: Database, session: Session, principal: Principal, *, user_id: int,
              role: Grant) -> None:
    """revoke, inside a caller's transaction (an access review records its decision with it)."""
    serialise_group_admins(db, session, role)
    require_role(session, principal, role, user_id)
    _target(session, principal, user_id, removing=role)
    before = grants_of(session, user_id)
    if role not in before:
        raise InvalidInput("The user does not have that role there.")
    _remove(session, user_id, role)
    _keep_a_group_admin(session, role)
    _audit(session, principal, user_id, "user.role_revoked", before, role)


def change_role(db: Database, principal: Principal, *, user_id: int, old: Grant, new: Grant) -> None:
    """Replace one role by another in one step (for example staff to admin of a provider)."""
    with transaction(db) as session:
        serialise_group_admins(db, session, old)
        require_role(session, principal, old, user_id)
        require_role(session, principal, new, user_id)
        _target(session, principal, user_id)
        before = grants_of(session, user_id)
        if old not in before:
            raise InvalidInput("The user does not have that role there.")
        if new in before:
            raise InvalidInput("The user already has that role there.")
        _remove(session, user_id, old)
        add_role(session, user_id, new)
        _keep_a_group_admin(session, old)
        _audit(session, principal, user_id, "user.role_changed", before, new)


def require_role(session: Session, principal: Principal, role: Grant, user_id: int | None) -> None:
    """The role and place: may this admin give (or take) this role there."""
    principal.require(Action.MANAGE_USERS, target_type="user", target_id=user_id)
    if not policy.grant_is_well_formed(role):
        raise InvalidInput("That role needs a provider group and provider, or a client account.")
    _check_place(session, role)
    if not reach.may_grant(principal, role):
        raise principal.denied(Action.MANAGE_USERS, target_type="user", target_id=user_id)


def _target(session: Session, principal: Principal, user_id: int, *,
            removing: Grant | None = None) -> None:
    """The person: an unknown id and a person outside reach get the same refusal."""
    if session.get(User, user_id) is None or not reach.may_manage_user(
            principal, reach.of_user(session, user_id), removing=removing):
        raise principal.denied(Action.MANAGE_USERS, target_type="user", target_id=user_id)


def _check_place(session: Session, role: Grant) -> None:
    if role.kind == "provider":
        if session.get(ProviderGroup, role.group_id) is None:
            raise InvalidInput("No such provider group.")
        if role.provider_id is not None:
            provider = session.get(Provider, role.provider_id)
            if provider is None or provider.group_id != role.group_id:
                raise InvalidInput("That provider is not part of the provider group.")
    elif role.kind == "account" and session.get(Account, role.account_id) is None:
        raise InvalidInput("No such client account.")


def add_role(session: Session, user_id: int, role: Grant) -> None:
    if role.kind == "staff":
        session.add(StaffRole(user_id=user_id, role=role.role))
    elif role.kind == "provider":
        held = session.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.group_id == role.group_id,
            Membership.provider_id.is_(None) if role.provider_id is None
            else Membership.provider_id == role.provider_id))
        if held is not None:
            raise InvalidInput("The user already has a role there; change it instead.")
        session.add(Membership(user_id=user_id, group_id=role.group_id,
                               provider_id=role.provider_id, role=role.role))
    else:
        if session.get(Account, role.account_id).deactivated_at is not None:
            raise InvalidInput("That client account is deactivated: nobody gets a role there "
                               "until it is reactivated.")
        existing = session.get(AccountMembership, (user_id, role.account_id))
        if existing is not None:
            raise InvalidInput("The user already has a role in that account; change it instead.")
        session.add(AccountMembership(user_id=user_id, account_id=role.account_id, role=role.role))
    session.flush()


def _remove(session: Session, user_id: int, role: Grant) -> None:
    if role.kind == "staff":
        session.execute(delete(StaffRole).where(StaffRole.user_id == user_id,
                                                StaffRole.role == role.role))
    elif role.kind == "provider":
        provider = (Membership.provider_id.is_(None) if role.provider_id is None
                    else Membership.provider_id == role.provider_id)
        session.execute(delete(Membership).where(Membership.user_id == user_id,
                                                 Membership.group_id == role.group_id, provider,
                                                 Membership.role == role.role))
    else:
        session.execute(delete(AccountMembership).where(AccountMembership.user_id == user_id,
                                                        AccountMembership.account_id == role.account_id,
                                                        AccountMembership.role == role.role))
    session.flush()


def serialise_group_admins(db: Database, session: Session, role: Grant) -> None:
    """Called first in a transaction that may remove a group admin: two admins removing each
    other at once must not leave the group without one."""
    if role.role == Role.PROVIDER_GROUP_ADMIN:
        db.serialise(session, f"group admins:{role.group_id}")


def _keep_a_group_admin(session: Session, removed: Grant) -> None:
    if removed.role != Role.PROVIDER_GROUP_ADMIN:
        return
    remaining = session.scalar(select(func.count()).select_from(Membership).join(
        User, User.id == Membership.user_id).where(
        Membership.group_id == removed.group_id, Membership.role == Role.PROVIDER_GROUP_ADMIN,
        User.status != UserStatus.DEACTIVATED))
    if not remaining:
        raise InvalidInput(LAST_GROUP_ADMIN)


def _place_name(session: Session, role: Grant) -> str:
    if role.kind == "provider":
        return session.get(ProviderGroup, role.group_id).name
    if role.kind == "account":
        return session.get(Account, role.account_id).name
    return "ResultsDesk"


def describe(role: Grant) -> dict:
    return {k: v for k, v in (("role", str(role.role)), ("group_id", role.group_id),
                              ("provider_id", role.provider_id), ("account_id", role.account_id))
            if v is not None}


def _audit(session: Session, principal: Principal, user_id: int, action: str,
           before: list[Grant], changed: Grant) -> None:
    after = grants_of(session, user_id)
    user = session.get(User, user_id)
    if user.status != UserStatus.INVITED:  # an invited person hears about their roles with the link
        account_emails.account_changed(
            session, to=user.email, name=user.name, now=clock.now(),
            change=f"Your roles changed. You now have: "
                   f"{'; '.join(label(session, g) for g in after) or 'no roles'}.")
    audit.record(session, action=action, actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="user", target_id=user_id,
                 details={"changed": describe(changed),
                          "old_roles": [describe(g) for g in before],
                          "new_roles": [describe(g) for g in after]})


def grantable(db: Database, principal: Principal) -> list[tuple[str, Grant]]:
    """Every role the admin may give, with a label naming the role and where it applies."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS)
        groups = session.execute(select(ProviderGroup.id, ProviderGroup.name)
                                 .order_by(ProviderGroup.name)).all()
        providers = session.execute(select(Provider.id, Provider.group_id, Provider.name)
                                    .order_by(Provider.name)).all()
        accounts = session.execute(select(Account.id, Account.name, Account.kind)
                                   .where(Account.deactivated_at.is_(None))
                                   .order_by(Account.name)).all()
    labels = policy.ROLE_LABELS
    choices: list[tuple[str, Grant]] = [
        (labels[role], Grant(role)) for role in policy.Role if role in policy.STAFF_ROLES]
    group_names = dict((gid, name) for gid, name in groups)
    for gid, name in groups:
        choices.append((f"{labels[Role.PROVIDER_GROUP_ADMIN]}: {name}",
                        Grant(Role.PROVIDER_GROUP_ADMIN, group_id=gid)))
    for pid, gid, name in providers:
        for role in (Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF):
            choices.append((f"{labels[role]}: {_at_provider(name, group_names[gid])}",
                            Grant(role, group_id=gid, provider_id=pid)))
    for aid, name, kind in accounts:
        for role in (Role.ACCOUNT_ADMIN, Role.ACCOUNT_USER):
            choices.append((f"{labels[role]}: {name} ({'TPA' if kind == 'tpa' else kind})",
                            Grant(role, account_id=aid)))
    # Filtered by the same rule that enforces: what is offered is exactly what is allowed.
    return [(label, role) for label, role in choices if reach.may_grant(principal, role)]


@dataclass(frozen=True)
class PersonRoles:
    """What an admin sees of a person's roles: all of them when the whole person is in reach
    (`whole`), otherwise only those at the admin's own places (which they may remove)."""

    roles: list[tuple[str, Grant]]
    whole: bool


def roles_of(db: Database, principal: Principal, *, user_id: int) -> PersonRoles:
    """A person's roles as far as the admin's reach goes; refused when none of them is."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_USERS, target_type="user", target_id=user_id)
        person = reach.of_user(session, user_id)
        held = grants_of(session, user_id)
        visible = reach.visible_roles(principal, person, held)
        whole = reach.may_manage_user(principal, person)
        if session.get(User, user_id) is None or not (whole or visible):
            raise principal.denied(Action.MANAGE_USERS, target_type="user", target_id=user_id)
        return PersonRoles([(label(session, role), role) for role in visible], whole)


def label(session: Session, role: Grant) -> str:
    words = policy.ROLE_LABELS[role.role]
    if role.kind == "provider":
        group = session.get(ProviderGroup, role.group_id).name
        if role.provider_id is None:
            return f"{words}: {group}"
        return f"{words}: {_at_provider(session.get(Provider, role.provider_id).name, group)}"
    if role.kind == "account":
        return f"{words}: {session.get(Account, role.account_id).name}"
    return words


def _at_provider(provider: str, group: str) -> str:
    """A provider's name, with its group only when the name does not already say it."""
    return provider if group.casefold() in provider.casefold() else f"{provider} ({group})"


def resend_invitation(db: Database, principal: Principal, *, user_id: int) -> None:
    """Send a fresh link to a person invited before invitations waited for acceptance (their
    account exists with status "invited"); the earlier link stops working."""
    from services.identity import invitations

    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.MANAGE_USERS, target_type="user", target_id=user_id)
        _target(session, principal, user_id)
        user = session.get(User, user_id)
        if user.status != UserStatus.INVITED:
            raise InvalidInput("Only a person who has not accepted their invitation can get a new one.")
        held = grants_of(session, user_id)
        organisation = _place_name(session, held[0]) if held else "ResultsDesk"
        invitations.send_invitation(session, user=user, inviter_name=principal.name,
                                    organisation=organisation, now=now)
        audit.record(session, action="user.invitation_resent", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user_id, now=now)


def places(db: Database, principal: Principal) -> dict[tuple[str, int], str]:
    """Provider groups and client accounts the admin gives roles in, for the people filter."""
    offered = [role for _, role in grantable(db, principal)]
    group_ids = {role.group_id for role in offered if role.kind == "provider"}
    account_ids = {role.account_id for role in offered if role.kind == "account"}
    with transaction(db, write=False) as session:
        groups = session.execute(select(ProviderGroup.id, ProviderGroup.name)
                                 .where(ProviderGroup.id.in_(sorted(group_ids)))
                                 .order_by(ProviderGroup.name)).all()
        accounts = session.execute(select(Account.id, Account.name)
                                   .where(Account.id.in_(sorted(account_ids)))
                                   .order_by(Account.name)).all()
    return {**{("group", gid): name for gid, name in groups},
            **{("account", aid): name for aid, name in accounts}}
