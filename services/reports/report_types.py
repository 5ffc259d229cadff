"""The report types clinics post, as data: the one place that reads and changes the list.

A system admin adds a type (name, short code, injury or non-injury, which kinds of account
receive it by default), renames it or retires it. Nothing is ever deleted: reports point to
their type by code. A retired type takes no new uploads; its reports stay where they were routed.

Each client account receives its kind's standard set (the active types marked for that kind)
plus and minus its own exceptions (account_report_types: receives=True adds a non-standard type,
receives=False removes a standard one). Routing at upload asks `receiving` for the accounts'
sets as they are at that moment; a change applies to reports posted after it, since the routing
rows already written (report_recipients) are the record of where a report went.

The list is read from the table on every call, never cached in the process, so every replica
sees a new type on its next run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import (
    ACCOUNT_KIND_COLUMNS,
    ACCOUNT_KINDS,
    EVERY_REPORT,
    Account,
    AccountReportType,
    ReportType,
    ReportVolumeDaily,
)
from services import audit, clock
from services.errors import InvalidInput, NotFound
from services.policy import Action
from services.principals import Principal
from services.transaction import transaction

CODE_PATTERN = re.compile(r"[a-z0-9_]{2,32}")
NAME_LIMIT = 120
KIND_LABELS = {"employer": "Employers", "payor": "Payors", "tpa": "TPAs"}
# Taken by every change to the list, so two admins cannot add the same name at once.
_LIST_LOCK = "report_types"


@dataclass(frozen=True)
class ReportTypeInfo:
    """One report type as the portal reads it."""

    code: str
    name: str
    injury: bool
    for_employers: bool
    for_payors: bool
    for_tpas: bool
    retired_at: datetime | None
    position: int

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of account that receive it by default."""
        return frozenset(kind for kind in ACCOUNT_KINDS if self.standard_for(kind))

    def standard_for(self, account_kind: str) -> bool:
        return bool(getattr(self, ACCOUNT_KIND_COLUMNS[account_kind]))


@dataclass(frozen=True)
class ListedType:
    """A row of the Report types screen: the type and how many reports carry it."""

    type: ReportTypeInfo
    reports: int


@dataclass(frozen=True)
class AccountTypes:
    """What one account receives: its kind's standard set and its own effective set."""

    account_id: int
    account_name: str
    kind: str
    standard: frozenset[str]
    receives: frozenset[str]

    @property
    def added(self) -> frozenset[str]:
        """Non-standard types this account receives."""
        return self.receives - self.standard

    @property
    def removed(self) -> frozenset[str]:
        """Standard types this account does not receive."""
        return self.standard - self.receives


# --- reading the list (any caller, inside or outside a transaction) ---------------------------


def all_types(source: Session | Database) -> list[ReportTypeInfo]:
    """Every report type, retired ones too, by position then name."""
    if isinstance(source, Database):
        with transaction(source, write=False) as session:
            return _all(session)
    return _all(source)


def active_types(source: Session | Database) -> list[ReportTypeInfo]:
    """The types that take new uploads, by position then name."""
    return [kind for kind in all_types(source) if not kind.retired]


def names(source: Session | Database) -> dict[str, str]:
    """Code -> name of every type (labels for reports already posted, whatever their type)."""
    return {kind.code: kind.name for kind in all_types(source)}


def find(session: Session, typed: str) -> ReportTypeInfo | None:
    """The type named by its code ('ccf') or its name, in any case; None when none is."""
    wanted = " ".join(typed.split()).casefold()
    for kind in _all(session):
        if wanted in (kind.code, kind.name.casefold()):
            return kind
    return None


def _all(session: Session) -> list[ReportTypeInfo]:
    rows = session.scalars(select(ReportType).order_by(ReportType.position, ReportType.name))
    return [_info(row) for row in rows]


def _info(row: ReportType) -> ReportTypeInfo:
    return ReportTypeInfo(code=row.code, name=row.name, injury=row.injury,
                          for_employers=row.for_employers, for_payors=row.for_payors,
                          for_tpas=row.for_tpas, retired_at=row.retired_at, position=row.position)


def receiving(session: Session, account_ids: Iterable[int], *,
              with_retired: bool = False) -> dict[int, frozenset[str]]:
    """Each account's effective set now: its kind's standard types, plus the non-standard types
    it was given, minus the standard types taken from it. Active types only unless
    `with_retired` (a search filter still finds reports of a type retired since). Accounts that
    do not exist are left out; deactivation is for the caller to weigh (routing does)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    kinds = dict(session.execute(select(Account.id, Account.kind).where(Account.id.in_(wanted))).all())
    types = [kind for kind in _all(session) if with_retired or not kind.retired]
    exceptions: dict[int, dict[str, bool]] = {}
    for account_id, code, receives in session.execute(
            select(AccountReportType.account_id, AccountReportType.report_type,
                   AccountReportType.receives).where(AccountReportType.account_id.in_(wanted))):
        exceptions.setdefault(account_id, {})[code] = receives
    return {account_id: frozenset(kind.code for kind in types
                                  if exceptions.get(account_id, {}).get(kind.code, kind.standard_for(kinds[account_id])))
            for account_id in wanted if account_id in kinds}


# --- the Report types screen (system admins) ---------------------------------------------------


def listing(db: Database, principal: Principal) -> list[ListedType]:
    """Every type with how many reports were posted of it (from the Dashboard's rollup)."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_REPORT_TYPES)
        counts = dict(session.execute(
            select(ReportVolumeDaily.report_type, func.sum(ReportVolumeDaily.reports))
            .where(ReportVolumeDaily.account_id == EVERY_REPORT)
            .group_by(ReportVolumeDaily.report_type)).all())
        return [ListedType(kind, int(counts.get(kind.code) or 0)) for kind in _all(session)]


def add_type(db: Database, principal: Principal, *, name: str, code: str, injury: bool,
             kinds: frozenset[str]) -> ReportTypeInfo:
    """Add a type at the end of the list; it can be posted and is routed at once."""
    with transaction(db) as session:
        principal.require(Action.MANAGE_REPORT_TYPES, target_type="report_type", target_id=code)
        db.serialise(session, _LIST_LOCK)
        code = _checked_code(session, code)
        name = _checked_name(session, name, code=code)
        kinds = _checked_kinds(kinds)
        now = clock.now()
        position = (session.scalar(select(func.max(ReportType.position))) or 0) + 1
        row = ReportType(code=code, name=name, injury=bool(injury), position=position,
                         created_at=now, retired_at=None,
                         **{ACCOUNT_KIND_COLUMNS[kind]: kind in kinds for kind in ACCOUNT_KINDS})
        session.add(row)
        session.flush()
        _record(session, principal, "report_type.added", code, now,
                {"name": name, "injury": bool(injury), "received_by": sorted(kinds)})
        return _info(row)


def rename_type(db: Database, principal: Principal, *, code: str, name: str) -> ReportTypeInfo:
    """Give a type a new name; reports already posted show the new name too."""
    with transaction(db) as session:
        principal.require(Action.MANAGE_REPORT_TYPES, target_type="report_type", target_id=code)
        db.serialise(session, _LIST_LOCK)
        row = _row(session, code)
        name = _checked_name(session, name, code=row.code, renaming=row.code)
        if name == row.name:
            return _info(row)
        before, row.name = row.name, name
        _record(session, principal, "report_type.renamed", row.code, clock.now(),
                {"name_before": before, "name_after": name})
        return _info(row)


def set_default_kinds(db: Database, principal: Principal, *, code: str,
                      kinds: frozenset[str]) -> ReportTypeInfo:
    """Change which kinds of account receive a type by default (for reports posted after)."""
    with transaction(db) as session:
        principal.require(Action.MANAGE_REPORT_TYPES, target_type="report_type", target_id=code)
        db.serialise(session, _LIST_LOCK)
        row = _row(session, code)
        kinds = _checked_kinds(kinds)
        before = _info(row).kinds
        if kinds == before:
            return _info(row)
        for kind in ACCOUNT_KINDS:
            setattr(row, ACCOUNT_KIND_COLUMNS[kind], kind in kinds)
        _record(session, principal, "report_type.defaults_changed", row.code, clock.now(),
                {"received_by_before": sorted(before), "received_by_after": sorted(kinds)})
        return _info(row)


def retire_type(db: Database, principal: Principal, *, code: str) -> ReportTypeInfo:
    """Stop new uploads of a type; its reports stay where they were routed."""
    with transaction(db) as session:
        principal.require(Action.MANAGE_REPORT_TYPES, target_type="report_type", target_id=code)
        db.serialise(session, _LIST_LOCK)
        row = _row(session, code)
        if row.retired_at is not None:
            raise InvalidInput(f"{row.name} is already retired.")
        row.retired_at = clock.now()
        _record(session, principal, "report_type.retired", row.code, row.retired_at, {"name": row.name})
        return _info(row)


def restore_type(db: Database, principal: Principal, *, code: str) -> ReportTypeInfo:
    """Take a retired type back into use: uploads of it are accepted again."""
    with transaction(db) as session:
        principal.require(Action.MANAGE_REPORT_TYPES, target_type="report_type", target_id=code)
        db.serialise(session, _LIST_LOCK)
        row = _row(session, code)
        if row.retired_at is None:
            raise InvalidInput(f"{row.name} is in use, not retired.")
        row.retired_at = None
        _record(session, principal, "report_type.restored", row.code, clock.now(), {"name": row.name})
        return _info(row)


def _row(session: Session, code: str) -> ReportType:
    row = session.get(ReportType, code)
    if row is None:
        raise NotFound("That report type does not exist.")
    return row


def _checked_code(session: Session, typed: str) -> str:
    code = typed.strip()
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput("The short code must be 2 to 32 lower-case letters, digits or "
                           "underscores, for example tx_dwc73.")
    taken = session.get(ReportType, code)
    if taken is not None:
        raise InvalidInput(f"The short code {code} is already used by {taken.name}.")
    if session.scalar(select(ReportType.name).where(func.lower(ReportType.name) == code)):
        raise InvalidInput(f"The short code {code} is already the name of another report type.")
    return code


def _checked_name(session: Session, typed: str, *, code: str, renaming: str | None = None) -> str:
    name = " ".join(typed.split())
    if not name:
        raise InvalidInput("Give the report type a name.")
    if len(name) > NAME_LIMIT:
        raise InvalidInput(f"The name is longer than {NAME_LIMIT} characters.")
    if any(not character.isprintable() for character in name):
        raise InvalidInput("The name may hold only printable characters.")
    others = select(ReportType).where(ReportType.code != (renaming or ""))
    for other in session.scalars(others):
        if other.name.casefold() == name.casefold():
            raise InvalidInput(f"Another report type is already called {other.name}"
                               + (" (retired)." if other.retired_at else "."))
        if other.code == name.casefold():
            raise InvalidInput(f"{name} is the short code of another report type; choose another name.")
    return name


def _checked_kinds(kinds: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(kinds)
    unknown = chosen - set(ACCOUNT_KINDS)
    if unknown:
        raise InvalidInput(f"Unknown kind of account: {sorted(unknown)[0]}.")
    return chosen


def _record(session: Session, principal: Principal, action: str, code: str, now: datetime,
            details: dict) -> None:
    audit.record(session, action=action, actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="report_type", target_id=code,
                 details=details, now=now)


# --- one account's set (account representatives) ---------------------------------------------


def account_set(db: Database, principal: Principal, *, account_id: int) -> AccountTypes:
    """The account's kind, its kind's standard set and what it receives now (active types)."""
    with transaction(db, write=False) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS, target_type="account", target_id=account_id)
        return _account_types(session, account_id)


def set_account_types(db: Database, principal: Principal, *, account_id: int,
                      receives: frozenset[str]) -> AccountTypes:
    """Make the account receive exactly these active types, for reports posted from now on.

    Only the differences from the kind's standard set are stored, so a later change to a type's
    default still reaches every account that kept the default. Exceptions about retired types
    are left as they are.
    """
    with transaction(db) as session:
        principal.require(Action.MANAGE_CLIENT_ACCOUNTS, target_type="account", target_id=account_id)
        db.serialise(session, f"account_report_types:{account_id}")
        before = _account_types(session, account_id)
        active = {kind.code: kind for kind in _all(session) if not kind.retired}
        wanted = frozenset(receives)
        unknown = sorted(wanted - set(active))
        if unknown:
            known = {kind.code: kind.name for kind in _all(session)}
            raise InvalidInput(f"{known[unknown[0]]} is retired and takes no new reports."
                               if unknown[0] in known else "Unknown report type.")
        if wanted == before.receives:
            return before
        now = clock.now()
        session.execute(delete(AccountReportType).where(
            AccountReportType.account_id == account_id,
            AccountReportType.report_type.in_(sorted(active))))
        session.add_all(AccountReportType(account_id=account_id, report_type=code,
                                          receives=code in wanted, changed_at=now)
                        for code, kind in active.items()
                        if (code in wanted) != kind.standard_for(before.kind))
        session.flush()
        after = _account_types(session, account_id)
        audit.record(session, action="account.report_types_changed",
                     actor_user_id=principal.user_id, actor_email=principal.email,
                     target_type="account", target_id=account_id, now=now,
                     details={"types_before": sorted(before.receives),
                              "types_after": sorted(after.receives),
                              "types_added": sorted(after.receives - before.receives),
                              "types_removed": sorted(before.receives - after.receives)})
        return after


def _account_types(session: Session, account_id: int) -> AccountTypes:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("That account does not exist.")
    standard = frozenset(kind.code for kind in _all(session)
                         if not kind.retired and kind.standard_for(account.kind))
    return AccountTypes(account_id=account.id, account_name=account.name, kind=account.kind,
                        standard=standard, receives=receiving(session, [account.id])[account.id])
