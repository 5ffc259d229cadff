"""Report search: filters, newest first, keyset pages of 50 and a count capped at 10,000.

Every query starts from scope.visible, so a filter can only narrow what the principal
may see. Filters naming an account or provider outside the principal's scope are refused (and
audited), because only a tampered request can send one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from db import dialect
from db.engine import Database
from db.models import REPORT_STATUSES, Account, Patient, Provider, Report, ReportRead
from services import reach, time_zones
from services.errors import InvalidInput
from services.policy import Action
from services.principals import Principal
from services.reports import list_purpose, report_types, scope
from services.reports.list_purpose import ListPurpose
from services.statuses import ReportStatus
from services.transaction import transaction

PAGE_SIZE = 50
# reports.withdrawn_reason of a report replaced by a correction (services/reports/corrections.py).
CORRECTED = "corrected"
COUNT_CAP = 10_000
_MAX_NAME_WORDS = 5
# Above this many matching patients a name counts as common (see _named); measured at 1M
# reports, where the two plans cost the same at about 1,000 patients.
COMMON_NAME_PATIENTS = 1_000
_WORD = re.compile(r"\w+")
# Report ids fit a 64-bit integer column; more digits cannot name a report.
_MAX_REPORT_DIGITS = 18

ReadState = Literal["all", "new", "opened"]


@dataclass(frozen=True)
class ReportFilter:
    """What the search form asks for; empty fields do not filter."""

    report_types: tuple[str, ...] = ()
    posted_from: date | None = None
    posted_to: date | None = None
    service_from: date | None = None
    service_to: date | None = None
    patient_name: str = ""
    employee_id: str = ""
    account_id: int | None = None
    provider_id: int | None = None
    state: str = ""
    injury: bool | None = None
    read: ReadState = "all"
    # Staff only: client and provider users always see available reports alone.
    statuses: tuple[str, ...] = ()
    # One report by its number (an incident or a ticket names it); scope still decides.
    report_id: int | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the next page starts strictly after this report."""

    posted_at: datetime
    report_id: int


@dataclass(frozen=True)
class ReportRow:
    id: int
    report_type: str
    type_label: str
    patient_name: str
    employee_id: str
    service_date: date
    posted_at: datetime
    provider_name: str
    state: str
    injury: bool
    status: str
    is_new: bool
    # Posted as a correction of an earlier report (recipients see "Corrected").
    corrected: bool = False
    # Withdrawn because a correction replaced it (status is "withdrawn").
    replaced: bool = False


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    next_cursor: Cursor | None
    count: int
    count_capped: bool = field(default=False)

    @property
    def count_label(self) -> str:
        return count_label(self.count, self.count_capped)


def count_label(count: int, capped: bool) -> str:
    """'1,234', or '10,000+' past the cap."""
    return f"{COUNT_CAP:,}+" if capped else f"{count:,}"


def search(db: Database, principal: Principal, report_filter: ReportFilter, *,
           after: Cursor | None = None, with_count: bool = True,
           purpose: ListPurpose | None = None) -> ReportPage:
    """One page of reports the principal may see, newest posting first (support and account
    representatives: with the visit's purpose, and recorded; services/reports/list_purpose.py)."""
    list_purpose.require(principal, purpose)
    with transaction(db, write=False) as session:
        conditions = _conditions(session, principal, report_filter, newest_first=True)
        ends = _posted_before(report_filter, principal)
        rows = _page(session, principal, conditions, ends, after)
        count, capped = 0, False
        if with_count:
            named = bool(report_filter.patient_name.strip())
            if named:
                conditions = _conditions(session, principal, report_filter, newest_first=False)
            count, capped = capped_count(session, conditions + ends, newest_first=not named)
    list_purpose.record(db, principal, purpose, used_filters(report_filter))
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = Cursor(rows[-1].posted_at, rows[-1].id) if has_more else None
    return ReportPage(rows=rows, next_cursor=next_cursor, count=count, count_capped=capped)


def count(db: Database, principal: Principal, report_filter: ReportFilter, *,
          purpose: ListPurpose | None = None) -> tuple[int, bool]:
    """How many reports match (exact up to COUNT_CAP), and whether there are more than that."""
    # A count by patient name tells whether that patient has reports: asked like a search.
    list_purpose.require(principal, purpose)
    with transaction(db, write=False) as session:
        conditions = _conditions(session, principal, report_filter)
        return capped_count(session, conditions + _posted_before(report_filter, principal),
                            newest_first=not report_filter.patient_name.strip())


def matching_ids(db: Database, principal: Principal, report_filter: ReportFilter, *,
                 limit: int, purpose: ListPurpose | None = None) -> tuple[list[int], bool]:
    """The ids of every report the search finds, newest posting first (the grid's order), up to
    `limit`; and whether there are more than that ("select all results of this search")."""
    list_purpose.require(principal, purpose)
    with transaction(db, write=False) as session:
        conditions = _conditions(session, principal, report_filter, newest_first=True)
        query = (select(Report.id).where(*conditions, *_posted_before(report_filter, principal))
                 .order_by(Report.posted_at.desc(), Report.id.desc()).limit(limit + 1))
        ids = list(session.scalars(query))
    return ids[:limit], len(ids) > limit


def used_filters(report_filter: ReportFilter) -> dict:
    """The filters a search used, for the audit trail: a patient's name or employee ID only as
    having been used, never its text."""
    f, used = report_filter, {}
    if f.report_types:
        used["report_types"] = sorted(f.report_types)
    for key in ("posted_from", "posted_to", "service_from", "service_to"):
        if getattr(f, key) is not None:
            used[key] = getattr(f, key).isoformat()
    if f.patient_name.strip():
        used["name_filter"] = True
    if f.employee_id.strip():
        used["employee_id_filter"] = True
    for key in ("account_id", "provider_id", "injury", "report_id"):
        if getattr(f, key) is not None:
            used[key] = getattr(f, key)
    if f.state.strip():
        used["state"] = f.state.strip().upper()
    if f.read != "all":
        used["read"] = f.read
    if f.statuses:
        used["statuses"] = sorted(f.statuses)
    return used


def capped_count(session: Session, conditions: list[ColumnElement[bool]], *,
                 newest_first: bool = True, cap: int | None = None) -> tuple[int, bool]:
    """Exact up to `cap` (COUNT_CAP unless told); beyond it only 'more than' (counting
    millions is not worth it)."""
    cap = COUNT_CAP if cap is None else cap
    matching = select(Report.id).where(*conditions)
    if newest_first:
        # Old reports are the archived ones: counting from the oldest id, PostgreSQL walked
        # 5 million of them before the first available report (1 s at 10M reports, 10 ms
        # newest first). Not for a name search, whose patient index is the faster way in.
        matching = matching.order_by(Report.id.desc())
    limited = matching.limit(cap + 1).subquery()
    count = session.scalar(select(func.count()).select_from(limited)) or 0
    return min(count, cap), count > cap


def count_new(session: Session, principal: Principal, *, delivered_after: datetime,
              delivered_until: datetime) -> int:
    """Unopened reports in scope that became available in (after, until] (for notices)."""
    return count_delivered(session, principal, ReportFilter(read="new"), after=delivered_after,
                           until=delivered_until)[0]


def count_delivered(session: Session, principal: Principal, report_filter: ReportFilter, *,
                    after: datetime, until: datetime | None = None,
                    cap: int | None = None) -> tuple[int, bool]:
    """Reports in scope matching the filter that became available after `after` (and by
    `until`), exact up to `cap` (saved searches' "new since you last looked", notices)."""
    conditions = _conditions(session, principal, report_filter)
    conditions += _posted_before(report_filter, principal)
    conditions.append(Report.delivered_at > after)
    # The clinic sees its withdrawn reports too; they are no news to anyone.
    conditions.append(Report.status == ReportStatus.AVAILABLE)
    if until is not None:
        conditions.append(Report.delivered_at <= until)
    # No newest-first order: the delivery index narrows a recent window faster than walking ids.
    return capped_count(session, conditions, newest_first=False, cap=cap)


def _conditions(session: Session, principal: Principal, report_filter: ReportFilter, *,
                newest_first: bool = False) -> list[ColumnElement[bool]]:
    """The WHERE clause; `newest_first` when it serves a page (see _named), not a count."""
    f = report_filter
    conditions = [scope.visible(session, principal)]
    if f.report_id is not None:
        # Outside the principal's scope it finds nothing, exactly like a number that does not
        # exist, so a typed number reveals nothing.
        conditions.append(Report.id == f.report_id)
    if f.report_types:
        unknown = set(f.report_types) - set(report_types.names(session))
        if unknown:
            raise InvalidInput("Unknown report type.")
        conditions.append(Report.report_type.in_(sorted(f.report_types)))
    if f.statuses and principal.is_staff:
        if set(f.statuses) - set(REPORT_STATUSES):
            raise InvalidInput("Unknown report status.")
        conditions.append(Report.status.in_(sorted(f.statuses)))
    _check_range(f.posted_from, f.posted_to, "posting")
    _check_range(f.service_from, f.service_to, "service")
    if f.posted_from:
        conditions.append(Report.posted_at >= time_zones.day_start(f.posted_from, principal.zone))
    if f.service_from:
        conditions.append(Report.service_date >= f.service_from)
    if f.service_to:
        conditions.append(Report.service_date <= f.service_to)
    if f.patient_name.strip():
        conditions.append(_named(session, f.patient_name, newest_first=newest_first))
    if f.employee_id.strip():
        conditions.append(Report.patient_id.in_(
            select(Patient.id).where(Patient.employee_id == f.employee_id.strip())))
    if f.account_id is not None:
        allowed = reach.account_ids(principal)
        if allowed is not None and f.account_id not in allowed:
            raise principal.denied(Action.VIEW_REPORTS, target_type="account", target_id=f.account_id)
        conditions.append(scope.in_view_of(f.account_id))
    if f.provider_id is not None:
        allowed = _filterable_providers(session, principal)
        if allowed is not None and f.provider_id not in allowed:
            raise principal.denied(Action.VIEW_REPORTS, target_type="provider",
                                   target_id=f.provider_id)
        conditions.append(Report.provider_id == f.provider_id)
    if f.state.strip():
        conditions.append(Report.state == f.state.strip().upper())
    if f.injury is not None:
        conditions.append(Report.injury == f.injury)
    if f.read != "all":
        opened = exists().where(ReportRead.user_id == principal.user_id,
                                ReportRead.report_id == Report.id)
        conditions.append(~opened if f.read == "new" else opened)
    return conditions


def _posted_before(report_filter: ReportFilter, principal: Principal) -> list[ColumnElement[bool]]:
    # Posting dates are the person's own calendar days, in the zone their screens show times in.
    if report_filter.posted_to is None:
        return []
    return [Report.posted_at < time_zones.day_start(report_filter.posted_to + timedelta(days=1),
                                                     principal.zone)]


def _filterable_providers(session: Session, principal: Principal) -> frozenset[int] | None:
    """Providers a principal may filter by: their own on the provider side; any for clients
    (who may narrow by clinic) and staff. The scope condition still decides the rows."""
    if principal.is_staff or principal.account_links:
        return None
    return reach.provider_ids(session, principal)


def _page(session: Session, principal: Principal, conditions: list[ColumnElement[bool]],
          ends: list[ColumnElement[bool]], after: Cursor | None) -> list[ReportRow]:
    where = list(conditions)
    if after is None:
        where += ends
    else:
        # The cursor replaces the end of the posting range (every later row lies before both):
        # SQLite uses only one upper bound of a range, so it must be the tighter one.
        where.append(Report.posted_at <= after.posted_at)
        where.append(or_(Report.posted_at < after.posted_at, Report.id < after.report_id))
    opened = exists().where(ReportRead.user_id == principal.user_id,
                            ReportRead.report_id == Report.id)
    query = (
        select(Report.id, Report.report_type, Patient.first_name, Patient.last_name,
               Patient.employee_id, Report.service_date, Report.posted_at, Provider.name,
               Report.state, Report.injury, Report.status, opened.label("opened"),
               Report.corrects_report_id, Report.withdrawn_reason)
        .join(Patient, Patient.id == Report.patient_id)
        .join(Provider, Provider.id == Report.provider_id)
        .where(*where)
        .order_by(Report.posted_at.desc(), Report.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    labels = report_types.names(session)
    return [
        ReportRow(id=r.id, report_type=r.report_type, type_label=labels.get(r.report_type, r.report_type),
                  patient_name=f"{r.last_name}, {r.first_name}", employee_id=r.employee_id,
                  service_date=r.service_date, posted_at=r.posted_at, provider_name=r.name,
                  state=r.state, injury=r.injury, status=r.status, is_new=not r.opened,
                  corrected=r.corrects_report_id is not None,
                  replaced=r.withdrawn_reason == CORRECTED)
        for r in session.execute(query)
    ]


def _named(session: Session, typed: str, *, newest_first: bool) -> ColumnElement[bool]:
    """Reports of patients with this name, in the cheaper of two ways.

    A rare name has few reports: fetch them through the patient index and sort them. A common
    name ("smith") has tens of thousands: for a page, walking the posting index newest first
    finds 50 of them sooner (`patient_id + 0` keeps SQLite's planner off the patient index).
    A count always goes through the patient index.
    """
    patients = patients_named(session, typed)
    if not newest_first:
        return Report.patient_id.in_(patients)
    first = select(*patients.subquery().c).limit(COMMON_NAME_PATIENTS + 1).subquery()
    many = session.scalar(select(func.count()).select_from(first)) > COMMON_NAME_PATIENTS
    if not many:
        return Report.patient_id.in_(patients)
    # PostgreSQL then hashes the matching patients once (found through the GIN index) instead
    # of recomputing each scanned patient's name vector or looping over the matches per report.
    return dialect.in_without_its_index(session, Report.patient_id, patients)


def patients_named(session: Session, typed: str):
    """Patient ids whose name has words starting with each typed word (indexed search)."""
    words = [w for w in _WORD.findall(typed.lower()) if w][:_MAX_NAME_WORDS]
    if not words:
        raise InvalidInput("Type at least one letter or digit of the patient's name.")
    return dialect.patients_named(session, words)


def report_number(typed: str) -> int | None:
    """The report number typed in the search form ('4992' or '#4992'); None when left empty."""
    cleaned = typed.strip().removeprefix("#").strip()
    if not cleaned:
        return None
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > _MAX_REPORT_DIGITS:
        raise InvalidInput("A report number is digits only, for example 4992.")
    return int(cleaned)


def _check_range(start: date | None, end: date | None, what: str) -> None:
    if start and end and start > end:
        raise InvalidInput(f"The {what} date range ends before it starts.")


@dataclass(frozen=True)
class FilterChoices:
    """What the search form offers this principal."""

    report_types: dict[str, str]
    accounts: dict[int, str]
    providers: dict[int, str]
    states: list[str]
    statuses: tuple[str, ...]


RETIRED_MARK = " (retired)"


def type_choices(session: Session, principal: Principal) -> dict[str, str]:
    """The report types (code: label) a principal can find: staff and provider users every type,
    client users those their accounts receive now (a type never routed to them would only ever
    answer 'no reports match'). A retired type is marked, and offered while it is in the set."""
    if not principal.can(Action.VIEW_REPORTS):
        return {}
    every = report_types.all_types(session)
    if principal.is_staff or principal.provider_links:
        offered = {kind.code for kind in every}
    else:
        sets = report_types.receiving(session, [link.account_id for link in principal.account_links],
                                      with_retired=True)
        offered = set().union(*sets.values())
    return {kind.code: kind.name + (RETIRED_MARK if kind.retired else "")
            for kind in every if kind.code in offered}


def filter_choices(db: Database, principal: Principal) -> FilterChoices:
    """Report types, accounts and providers the principal can filter by (their scope only)."""
    with transaction(db, write=False) as session:
        return choices_in(session, principal)


def choices_in(session: Session, principal: Principal) -> FilterChoices:
    """filter_choices inside the caller's transaction."""
    scope.visible(session, principal)
    account_scope = reach.account_ids(principal)
    provider_scope = _filterable_providers(session, principal)
    account_query = select(Account.id, Account.name, Account.kind).order_by(Account.name)
    if account_scope is not None:
        account_query = account_query.where(Account.id.in_(sorted(account_scope)))
    accounts = session.execute(account_query).all()
    provider_query = select(Provider.id, Provider.name, Provider.state).order_by(Provider.name)
    if provider_scope is not None:
        provider_query = provider_query.where(Provider.id.in_(sorted(provider_scope)))
    providers = session.execute(provider_query).all()
    types = type_choices(session, principal)
    return FilterChoices(
        report_types=types,
        accounts={a.id: f"{a.name} ({a.kind.upper() if a.kind == 'tpa' else a.kind})" for a in accounts},
        providers={p.id: p.name for p in providers},
        states=sorted({p.state for p in providers if p.state}),
        statuses=REPORT_STATUSES if principal.is_staff else (),
    )

