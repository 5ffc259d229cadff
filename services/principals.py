"""The acting user as the services see them: identity, roles and the scope those roles cover.

A principal is rebuilt from the database on every page run, so a role change or a
deactivation applies at the user's next interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Account, AccountMembership, Membership, Provider, ProviderGroup, StaffRole, User
from services import policy, time_zones
from services.errors import PermissionDenied
from services.policy import Action, Role


@dataclass(frozen=True)
class ProviderLink:
    group_id: int
    group_name: str
    provider_id: int | None
    provider_name: str | None
    role: Role


@dataclass(frozen=True)
class AccountLink:
    account_id: int
    account_name: str
    account_kind: str
    role: Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    name: str
    staff_roles: frozenset[Role]
    provider_links: tuple[ProviderLink, ...] = ()
    account_links: tuple[AccountLink, ...] = ()
    session_id: int | None = None
    terms_version: str | None = None  # the terms of use version this user last accepted
    time_zone: str | None = None  # IANA name; None until the first sign-in stores one

    @property
    def zone(self) -> ZoneInfo:
        """The zone the screens show this person's times in (UTC until one is stored)."""
        return time_zones.zone_of(self.time_zone)

    @property
    def roles(self) -> frozenset[Role]:
        return (self.staff_roles
                | {link.role for link in self.provider_links}
                | {link.role for link in self.account_links})

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_roles)

    @property
    def administered_groups(self) -> frozenset[int]:
        return frozenset(link.group_id for link in self.provider_links
                         if link.role == Role.PROVIDER_GROUP_ADMIN)

    @property
    def administered_providers(self) -> frozenset[int]:
        return frozenset(link.provider_id for link in self.provider_links
                         if link.role == Role.PROVIDER_ADMIN)

    @property
    def administered_accounts(self) -> frozenset[int]:
        return frozenset(link.account_id for link in self.account_links
                         if link.role == Role.ACCOUNT_ADMIN)

    @property
    def actions(self) -> frozenset[Action]:
        return policy.actions_of(self.roles)

    def can(self, action: Action) -> bool:
        return action in self.actions

    def denied(self, action: Action, *, target_type: str | None = None,
               target_id: str | int | None = None) -> PermissionDenied:
        return PermissionDenied(actor_user_id=self.user_id, actor_email=self.email,
                                action=str(action), target_type=target_type, target_id=target_id,
                                session_id=self.session_id)

    def require(self, action: Action, *, target_type: str | None = None,
                target_id: str | int | None = None) -> None:
        """Raise PermissionDenied (audited by the transaction) unless the roles allow the action."""
        if not self.can(action):
            raise self.denied(action, target_type=target_type, target_id=target_id)


def load(session: Session, user: User, *, session_id: int | None = None) -> Principal:
    """Build the principal for a user from their current roles and memberships."""
    staff = session.scalars(select(StaffRole.role).where(StaffRole.user_id == user.id)).all()
    provider_rows = session.execute(
        select(Membership, Provider.name)
        .outerjoin(Provider, Provider.id == Membership.provider_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.group_id, Membership.provider_id)
    ).all()

    group_names = dict(session.execute(
        select(ProviderGroup.id, ProviderGroup.name)
        .where(ProviderGroup.id.in_({m.group_id for m, _ in provider_rows}))
    ).all()) if provider_rows else {}
    account_rows = session.execute(
        select(AccountMembership.role, Account)
        .join(Account, Account.id == AccountMembership.account_id)
        # A deactivated account's people lose access to it at once: its memberships are kept
        # (reactivating gives them back) but no principal carries them.
        .where(AccountMembership.user_id == user.id, Account.deactivated_at.is_(None))
        .order_by(Account.name)
    ).all()
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        staff_roles=frozenset(Role(r) for r in staff),
        provider_links=tuple(
            ProviderLink(m.group_id, group_names.get(m.group_id, ""), m.provider_id, provider_name,
                         Role(m.role))
            for m, provider_name in provider_rows
        ),
        account_links=tuple(
            AccountLink(account.id, account.name, account.kind, Role(role))
            for role, account in account_rows
        ),
        session_id=session_id,
        terms_version=user.terms_version,
        time_zone=user.time_zone,
    )
