"""Employer, payor and TPA accounts and their people, for account representatives."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from db.engine import Database
from db.models import Account, AccountMembership, User
from services.policy import Action
from services.principals import Principal
from services.transaction import transaction


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    kind: str
    people: int


@dataclass(frozen=True)
class AccountPerson:
    user_id: int
    email: str
    name: str
    status: str
    role: str
    accounts: frozenset[int] = frozenset()  # every account the person belongs to


def accounts(db: Database, principal: Principal) -> list[AccountRow]:
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS)
        people = (select(AccountMembership.account_id, func.count().label("people"))
                  .group_by(AccountMembership.account_id).subquery())
        rows = session.execute(select(Account.id, Account.name, Account.kind, people.c.people)
                               .outerjoin(people, people.c.account_id == Account.id)
                               .order_by(Account.kind, Account.name)).all()
    return [AccountRow(r.id, r.name, r.kind, r.people or 0) for r in rows]


def people_of(db: Database, principal: Principal, *, account_id: int) -> list[AccountPerson]:
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS, target_type="account", target_id=account_id)
        rows = session.execute(select(User.id, User.email, User.name, User.status,
                                      AccountMembership.role)
                               .join(AccountMembership, AccountMembership.user_id == User.id)
                               .where(AccountMembership.account_id == account_id)
                               .order_by(User.email)).all()
        held: dict[int, set[int]] = {}
        for user_id, held_id in session.execute(
                select(AccountMembership.user_id, AccountMembership.account_id)
                .where(AccountMembership.user_id.in_([row.id for row in rows]))):
            held.setdefault(user_id, set()).add(held_id)
    return [AccountPerson(*row, accounts=frozenset(held.get(row.id, ()))) for row in rows]
