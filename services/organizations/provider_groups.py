"""Provider groups and their providers (locations), as the provider portal's "Manage Provider
Groups" tab shows them: who sees which group, registering, editing, moving, deactivating a
provider, and adding a person of the group to another of its providers.

Who. People whose staff role holds MANAGE_PROVIDER_GROUPS (system admins, support reps) see and
manage every group. A provider group admin sees and manages their group(s): every provider of
the group, registering new ones, editing, deactivating and reactivating them, and the group's
people. A provider admin sees only the provider(s) they administer, inside that provider's
group: they may edit their provider's contact details (address, city, state, postal code, phone,
fax), not its name or type, and may not register, deactivate or move providers. Creating a group
directly and moving a provider to another group are for system admins and support only.
A group or provider outside reach and one that does not exist get the same refusal.

NPIs. A new provider's or group's NPI must be 10 digits with a valid check digit
(services/organizations/npi.py) and must not be any provider's or group's NPI yet, in another
group or in this one: every such case gets NPI_TAKEN, word for word, so nobody learns where an
NPI is registered. Two registrations of one NPI racing: the per-NPI lock the registration codes
use serialises them, and the unique index on providers.npi catches anything else, answered with
the same message. A provider's NPI never changes: a wrong one is deactivated and registered anew.

Moving. A provider moves with its reports and with the roles people hold at it: each provider
admin's and provider staff's membership at that provider changes to the new group (a membership's
group is always its provider's group). Group admins of the old group lose reach over it (their
role is group-wide, and the provider is no longer in their group); those of the new group gain it.
People's roles at other providers are untouched. The move is audited with from, to and reason.

Deactivating. A deactivated provider takes no uploads (services/reports/ingest.py refuses it and
the upload form leaves it out); its reports stay where they were routed and stay readable; the
roles people hold at it stay (so its own people still find its earlier reports), and nobody is
added to it until it is reactivated. People keep all their other roles.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import (
    AccountMembership,
    Membership,
    Provider,
    ProviderGroup,
    RegistrationCode,
    Report,
    StaffRole,
    User,
)
from services import audit, clock, policy, reach
from services.errors import InvalidInput
from services.identity import memberships
from services.organizations import npi
from services.policy import Action, Grant, Role
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction

NPI_TAKEN = ("This NPI cannot be registered: it is already registered in the portal. "
             "Check the number, or contact support.")
BAD_NPI = "Enter the NPI: 10 digits, the last a check digit. This number is not a valid NPI; check it."
# Roles "Available users from your group" gives at a provider; the first is the standard one.
ADDABLE_ROLES = (Role.PROVIDER_STAFF, Role.PROVIDER_ADMIN)
REASON_LENGTH = (5, 500)
# What a provider admin may change of their own provider; name and type are the group's.
CONTACT_FIELDS = ("address", "city", "state", "postal_code", "phone", "fax")


@dataclass(frozen=True)
class ProviderDetails:
    """What a person types about a provider (everything but its NPI)."""

    name: str
    provider_type: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    fax: str = ""


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    npi: str
    providers: int  # the providers of the group the principal sees


@dataclass(frozen=True)
class ProviderRow:
    id: int
    group_id: int
    npi: str
    details: ProviderDetails
    deactivated_at: datetime | None
    users: int  # people with a role at this provider, not deactivated
    reports: int  # reports ever posted for it

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    @property
    def status(self) -> str:
        return "active" if self.active else "deactivated"


@dataclass(frozen=True)
class PersonAtProvider:
    provider_id: int | None  # None: a group admin's role, over every provider of the group
    provider_name: str
    role: Role


@dataclass(frozen=True)
class GroupPerson:
    user_id: int
    name: str
    email: str
    status: str
    roles: tuple[PersonAtProvider, ...]  # their roles in this group, as far as the viewer sees
    # The viewer may give them a role at another provider here (wholly in the viewer's reach,
    # and not already a group admin of the group, who covers every provider).
    addable: bool = False


@dataclass(frozen=True)
class GroupView:
    """What the principal may do in one group (the screen offers exactly this)."""

    group: GroupRow
    manages_group: bool  # register, deactivate, rename, add people: group admins and staff
    everywhere: bool  # create groups, move providers: system admins and support
    providers: list[ProviderRow]


# --- scope -------------------------------------------------------------------------------------


def _everywhere(principal: Principal) -> bool:
    """A staff role of theirs holds the action: every group (system admins, support reps)."""
    return any(Action.MANAGE_PROVIDER_GROUPS in policy.ROLE_ACTIONS[role]
               for role in principal.staff_roles)


def manages_every_group(principal: Principal) -> bool:
    """Whether the principal creates groups and moves providers (system admins, support)."""
    return principal.can(Action.MANAGE_PROVIDER_GROUPS) and _everywhere(principal)


def _manages_group(principal: Principal, group_id: int) -> bool:
    return _everywhere(principal) or group_id in principal.administered_groups


def _manages_provider(principal: Principal, provider: Provider) -> bool:
    return (_manages_group(principal, provider.group_id)
            or provider.id in principal.administered_providers)


def _provider_condition(principal: Principal) -> ColumnElement[bool]:
    """SQL form of _manages_provider: the Provider rows this principal sees here (as
    reach.provider_condition for the places they administer; staff only with the action)."""
    if _everywhere(principal):
        return true()
    parts = ([Provider.group_id.in_(sorted(principal.administered_groups))]
             if principal.administered_groups else []) + (
        [Provider.id.in_(sorted(principal.administered_providers))]
        if principal.administered_providers else [])
    return or_(*parts) if parts else false()


def _group(session: Session, principal: Principal, group_id: int, *, whole: bool) -> ProviderGroup:
    """The group, if the principal manages it (`whole`) or at least one provider of it."""
    group = session.get(ProviderGroup, group_id)
    if group is not None and (_manages_group(principal, group_id) or (not whole and session.scalar(
            select(Provider.id).where(Provider.group_id == group_id,
                                      _provider_condition(principal)).limit(1)))):
        return group
    raise principal.denied(Action.MANAGE_PROVIDER_GROUPS, target_type="provider_group",
                           target_id=group_id)


def _provider(session: Session, principal: Principal, provider_id: int, *,
              whole_group: bool) -> Provider:
    """The provider, if the principal manages its group (`whole_group`) or at least it."""
    provider = session.get(Provider, provider_id)
    if provider is not None and (_manages_group(principal, provider.group_id) or (
            not whole_group and _manages_provider(principal, provider))):
        return provider
    raise principal.denied(Action.MANAGE_PROVIDER_GROUPS, target_type="provider",
                           target_id=provider_id)


def _require_everywhere(principal: Principal, *, target_type: str, target_id: int | None) -> None:
    if not _everywhere(principal):
        raise principal.denied(Action.MANAGE_PROVIDER_GROUPS, target_type=target_type,
                               target_id=target_id)


# --- reading -----------------------------------------------------------------------------------


def groups(db: Database, principal: Principal) -> list[GroupRow]:
    """The groups the principal sees, by name, each with how many of its providers they see."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_PROVIDER_GROUPS)
        seen = (select(Provider.group_id, func.count().label("providers"))
                .where(_provider_condition(principal)).group_by(Provider.group_id).subquery())
        query = (select(ProviderGroup.id, ProviderGroup.name, ProviderGroup.npi, seen.c.providers)
                 .outerjoin(seen, seen.c.group_id == ProviderGroup.id)
                 .order_by(ProviderGroup.name, ProviderGroup.id))
        if not _everywhere(principal):
            # A group admin's groups (even with no provider yet), a provider admin's providers' groups.
            query = query.where((ProviderGroup.id.in_(sorted(principal.administered_groups)))
                                | seen.c.providers.is_not(None))
        return [GroupRow(r.id, r.name, r.npi, r.providers or 0) for r in session.execute(query)]


def view(db: Database, principal: Principal, *, group_id: int) -> GroupView:
    """One group as the principal sees it: its providers with their users and reports counted."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider_group",
                          target_id=group_id)
        group = _group(session, principal, group_id, whole=False)
        users = (select(Membership.provider_id, func.count(func.distinct(Membership.user_id))
                        .label("users"))
                 .join(User, User.id == Membership.user_id)
                 .where(Membership.group_id == group_id, Membership.provider_id.is_not(None),
                        User.status != UserStatus.DEACTIVATED)
                 .group_by(Membership.provider_id).subquery())
        reports = (select(Report.provider_id, func.count().label("reports"))
                   .join(Provider, Provider.id == Report.provider_id)
                   .where(Provider.group_id == group_id)
                   .group_by(Report.provider_id).subquery())
        rows = session.execute(
            select(Provider, users.c.users, reports.c.reports)
            .outerjoin(users, users.c.provider_id == Provider.id)
            .outerjoin(reports, reports.c.provider_id == Provider.id)
            .where(Provider.group_id == group_id, _provider_condition(principal))
            .order_by(Provider.name, Provider.id)).all()
        providers = [ProviderRow(id=p.id, group_id=p.group_id, npi=p.npi, details=_details_of(p),
                                 deactivated_at=p.deactivated_at, users=u or 0, reports=r or 0)
                     for p, u, r in rows]
        seen = GroupRow(group.id, group.name, group.npi, len(providers))
        return GroupView(seen, _manages_group(principal, group_id), _everywhere(principal),
                         providers)


def people(db: Database, principal: Principal, *, group_id: int) -> list[GroupPerson]:
    """The group's people, each with their roles at the group's providers the principal sees
    (a provider admin: the people and roles at their own providers only)."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider_group",
                          target_id=group_id)
        _group(session, principal, group_id, whole=False)
        query = (select(User.id, User.name, User.email, User.status, Membership.provider_id,
                        Provider.name.label("provider_name"), Membership.role)
                 .join(Membership, Membership.user_id == User.id)
                 .outerjoin(Provider, Provider.id == Membership.provider_id)
                 .where(Membership.group_id == group_id)
                 .order_by(User.name, User.email, Provider.name))
        if not _manages_group(principal, group_id):
            query = query.where(Membership.provider_id.in_(sorted(principal.administered_providers)))
        found: dict[int, GroupPerson] = {}
        for row in session.execute(query):
            held = PersonAtProvider(row.provider_id, row.provider_name or "", Role(row.role))
            person = found.get(row.id)
            found[row.id] = GroupPerson(row.id, row.name, row.email, row.status,
                                        (person.roles if person else ()) + (held,))
        reaches = _reaches(session, list(found))
        return [replace(person, addable=person.status != UserStatus.DEACTIVATED
                        and all(r.provider_id is not None for r in person.roles)
                        and reach.may_manage_user(principal, reaches[person.user_id]))
                for person in found.values()]


def _reaches(session: Session, user_ids: list[int]) -> dict[int, reach.UserReach]:
    """reach.of_user for many people in three queries."""
    staff: dict[int, set[Role]] = {i: set() for i in user_ids}
    links: dict[int, list] = {i: [] for i in user_ids}
    accounts: dict[int, list] = {i: [] for i in user_ids}
    for user_id, role in session.execute(select(StaffRole.user_id, StaffRole.role)
                                         .where(StaffRole.user_id.in_(user_ids))):
        staff[user_id].add(Role(role))
    for user_id, group_id, provider_id, role in session.execute(
            select(Membership.user_id, Membership.group_id, Membership.provider_id, Membership.role)
            .where(Membership.user_id.in_(user_ids))):
        links[user_id].append((group_id, provider_id, Role(role)))
    for user_id, account_id, role in session.execute(
            select(AccountMembership.user_id, AccountMembership.account_id, AccountMembership.role)
            .where(AccountMembership.user_id.in_(user_ids))):
        accounts[user_id].append((account_id, Role(role)))
    return {i: reach.UserReach(frozenset(staff[i]), tuple(links[i]),
                               tuple(a for a, _ in accounts[i]), tuple(r for _, r in accounts[i]))
            for i in user_ids}


# --- registering and creating ------------------------------------------------------------------


def register_provider(db: Database, principal: Principal, *, group_id: int, npi_number: str,
                      details: ProviderDetails) -> int:
    """Add a provider (location) to a group; returns its id."""
    number = (npi_number or "").strip()
    try:
        with transaction(db) as session:
            principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider_group",
                              target_id=group_id)
            _group(session, principal, group_id, whole=True)
            clean = _checked(details)
            _free_npi(db, session, number)
            provider = Provider(group_id=group_id, npi=number, **_columns(clean))
            session.add(provider)
            session.flush()
            audit.record(session, action="provider.registered", actor_user_id=principal.user_id,
                         actor_email=principal.email, target_type="provider", target_id=provider.id,
                         details={"npi": number, "group_id": group_id})
            return provider.id
    except IntegrityError:  # the same NPI written at this instant by another path
        raise InvalidInput(NPI_TAKEN) from None


def create_group(db: Database, principal: Principal, *, group_name: str, npi_number: str,
                 details: ProviderDetails) -> int:
    """A group with its first provider (the facility, under the same NPI), for a facility that
    calls in instead of registering with a code; returns the group's id. Unused registration
    codes for that NPI stop working. Its first admin is then invited from the Users screen."""
    number, name = (npi_number or "").strip(), " ".join((group_name or "").split())
    now = clock.now()
    try:
        with transaction(db) as session:
            principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="npi",
                              target_id=number if npi.is_valid(number) else None)
            _require_everywhere(principal, target_type="npi",
                                target_id=number if npi.is_valid(number) else None)
            if not 2 <= len(name) <= 200:
                raise InvalidInput("Enter the provider group's name (2 to 200 characters).")
            clean = _checked(details)
            _free_npi(db, session, number)
            group = ProviderGroup(name=name, npi=number, created_at=now)
            session.add(group)
            session.flush()
            provider = Provider(group_id=group.id, npi=number, **_columns(clean))
            session.add(provider)
            superseded = session.execute(update(RegistrationCode).where(
                RegistrationCode.npi == number, RegistrationCode.used_at.is_(None),
                RegistrationCode.expires_at > now).values(used_at=now)).rowcount
            session.flush()
            audit.record(session, action="provider_group.created", actor_user_id=principal.user_id,
                         actor_email=principal.email, target_type="provider_group",
                         target_id=group.id, details={"npi": number, "provider_id": provider.id,
                                                      "superseded": superseded}, now=now)
            return group.id
    except IntegrityError:
        raise InvalidInput(NPI_TAKEN) from None


def _free_npi(db: Database, session: Session, number: str) -> None:
    """Refuse an invalid NPI, and one any provider or group has, always in the same words."""
    if not npi.is_valid(number):
        raise InvalidInput(BAD_NPI)
    db.serialise(session, f"registration:{number}")  # the lock registration codes take too
    if session.scalar(select(Provider.id).where(Provider.npi == number).limit(1)) is not None \
            or session.scalar(select(ProviderGroup.id).where(ProviderGroup.npi == number)
                              .limit(1)) is not None:
        raise InvalidInput(NPI_TAKEN)


_LIMITS = {"name": 200, "provider_type": 60, "address": 200, "city": 100, "state": 2,
           "postal_code": 10, "phone": 40, "fax": 40}
_WORDS = {"name": "name", "provider_type": "provider type", "address": "address", "city": "city",
          "state": "state", "postal_code": "postal code", "phone": "phone", "fax": "fax"}


def _checked(details: ProviderDetails) -> ProviderDetails:
    values = {f.name: " ".join(str(getattr(details, f.name) or "").split())
              for f in fields(ProviderDetails)}
    values["state"] = values["state"].upper()
    if len(values["name"]) < 2:
        raise InvalidInput("Enter the provider's name (2 to 200 characters).")
    if values["state"] and not (len(values["state"]) == 2 and values["state"].isalpha()):
        raise InvalidInput("Enter the state as its two-letter code (for example TX).")
    for key, limit in _LIMITS.items():
        if len(values[key]) > limit:
            raise InvalidInput(f"The {_WORDS[key]} is longer than {limit} characters.")
    for key in ("phone", "fax"):
        if values[key] and not all(c.isdigit() or c in " ()+-.x" for c in values[key]):
            raise InvalidInput(f"Enter the {key} number with digits, spaces, ( ) + - . only.")
    return ProviderDetails(**values)


def _columns(details: ProviderDetails) -> dict[str, str]:
    return {f.name: getattr(details, f.name) for f in fields(ProviderDetails)}


def _details_of(provider: Provider) -> ProviderDetails:
    return ProviderDetails(**{f.name: getattr(provider, f.name) or "" for f in fields(ProviderDetails)})


# --- changing a provider -----------------------------------------------------------------------


def edit_provider(db: Database, principal: Principal, *, provider_id: int,
                  details: ProviderDetails) -> list[str]:
    """Save a provider's details; returns the names of the fields that changed (none: nothing
    is written). A provider admin changes only CONTACT_FIELDS of their own provider."""
    with transaction(db) as session:
        principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider",
                          target_id=provider_id)
        provider = _provider(session, principal, provider_id, whole_group=False)
        clean, before = _checked(details), _details_of(provider)
        changed = [f.name for f in fields(ProviderDetails)
                   if getattr(clean, f.name) != getattr(before, f.name)]
        if not changed:
            return []
        if not _manages_group(principal, provider.group_id) and set(changed) - set(CONTACT_FIELDS):
            raise principal.denied(Action.MANAGE_PROVIDER_GROUPS, target_type="provider",
                                   target_id=provider_id)
        for name in changed:
            setattr(provider, name, getattr(clean, name))
        audit.record(session, action="provider.changed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="provider", target_id=provider_id,
                     details={"changed": changed,
                              "before": {n: getattr(before, n) for n in changed},
                              "after": {n: getattr(clean, n) for n in changed}})
        return changed


def deactivate_provider(db: Database, principal: Principal, *, provider_id: int) -> None:
    """Stop uploads for a provider; its reports and the roles people hold at it stay."""
    _set_active(db, principal, provider_id=provider_id, active=False)


def reactivate_provider(db: Database, principal: Principal, *, provider_id: int) -> None:
    _set_active(db, principal, provider_id=provider_id, active=True)


def _set_active(db: Database, principal: Principal, *, provider_id: int, active: bool) -> None:
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider",
                          target_id=provider_id)
        provider = _provider(session, principal, provider_id, whole_group=True)
        if (provider.deactivated_at is None) == active:
            raise InvalidInput(f"This provider is already {'active' if active else 'deactivated'}.")
        provider.deactivated_at = None if active else now
        audit.record(session, action="provider.reactivated" if active else "provider.deactivated",
                     actor_user_id=principal.user_id, actor_email=principal.email,
                     target_type="provider", target_id=provider_id,
                     details={"group_id": provider.group_id}, now=now)


def move_provider(db: Database, principal: Principal, *, provider_id: int, to_group_id: int,
                  reason: str) -> int:
    """Move a provider, its reports and the roles held at it to another group; returns how
    many people's roles moved with it."""
    reason = " ".join((reason or "").split())
    with transaction(db) as session:
        principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider",
                          target_id=provider_id)
        _require_everywhere(principal, target_type="provider", target_id=provider_id)
        db.serialise(session, f"provider:{provider_id}")  # two moves at once: the second sees the first
        provider = session.get(Provider, provider_id)
        if provider is None:
            raise InvalidInput("No such provider.")
        if session.get(ProviderGroup, to_group_id) is None:
            raise InvalidInput("No such provider group.")
        if provider.group_id == to_group_id:
            raise InvalidInput("The provider is already in that group.")
        low, high = REASON_LENGTH
        if not low <= len(reason) <= high:
            raise InvalidInput(f"Give the reason for the move ({low} to {high} characters); "
                               "it is kept in the audit trail.")
        from_group_id = provider.group_id
        provider.group_id = to_group_id
        moved = session.execute(update(Membership).where(Membership.provider_id == provider_id)
                                .values(group_id=to_group_id)).rowcount
        session.flush()
        audit.record(session, action="provider.moved", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="provider", target_id=provider_id,
                     details={"from_group_id": from_group_id, "to_group_id": to_group_id,
                              "reason": reason, "roles_moved": moved})
        return moved


# --- people ------------------------------------------------------------------------------------


def add_to_provider(db: Database, principal: Principal, *, user_id: int, provider_id: int,
                    role: Role = Role.PROVIDER_STAFF) -> None:
    """"Available users from your group": give a person who already has a role in the provider's
    group a role at another of its providers, through the Users screen's delegation rules
    (memberships.grant_in: the right to give that role there, and reach over the whole person)."""
    try:
        with transaction(db) as session:
            _add_to_provider(session, principal, user_id=user_id, provider_id=provider_id,
                             role=role)
    except IntegrityError:  # the same role given at this instant by another admin
        raise InvalidInput("The user already has a role there; change it instead.") from None


def _add_to_provider(session: Session, principal: Principal, *, user_id: int, provider_id: int,
                     role: Role) -> None:
    principal.require(Action.MANAGE_PROVIDER_GROUPS, target_type="provider",
                      target_id=provider_id)
    provider = _provider(session, principal, provider_id, whole_group=False)
    if role not in ADDABLE_ROLES:
        raise InvalidInput("Choose Provider staff or Provider admin.")
    grant = Grant(Role(role), group_id=provider.group_id, provider_id=provider.id)
    memberships.require_role(session, principal, grant, user_id)
    if session.get(User, user_id) is None or not reach.may_manage_user(
            principal, reach.of_user(session, user_id)):
        raise principal.denied(Action.MANAGE_USERS, target_type="user", target_id=user_id)
    if session.scalar(select(Membership.id).where(Membership.user_id == user_id,
                                                  Membership.group_id == provider.group_id)
                      .limit(1)) is None:
        raise InvalidInput("Only people of this provider group are added here; invite anyone "
                           "else from the Users screen.")
    if provider.deactivated_at is not None:
        raise InvalidInput("This provider is deactivated: reactivate it before adding people.")
    memberships.grant_in(session, principal, user_id=user_id, role=grant)
