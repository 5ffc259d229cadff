"""Which reports a principal may see, as one SQL condition every report query starts from.

Staff with the reports action see every report in any status. Provider users see the available
reports of their providers (a group admin: every provider of the group). Client users see the
available reports routed to their accounts, limited to the report types their kind of account
receives. Anyone else sees nothing: the condition is false, never "no filter".

Which providers and client accounts a principal reaches comes from services/reach.py; this
module adds what is about reports (statuses, routing, the types each kind of account receives).
visible is the SQL form and sees the Python form of one report; keep them together.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from db.models import REPORT_TYPES, Account, Report, ReportRecipient
from services import reach
from services.policy import Action
from services.principals import Principal
from services.reports import routing
from services.statuses import ReportStatus


def visible(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The condition on Report rows this principal may see; refuses anyone without the action."""
    principal.require(Action.VIEW_REPORTS)
    if principal.is_staff:
        return true()
    places = [*_provider_reach(session, principal), *_client_reach(principal)]
    if not places:
        return false()
    return and_(Report.status == ReportStatus.AVAILABLE, or_(*places))


def sees(principal: Principal, report: Report, *, group_id: int,
         routed_to_accounts: frozenset[int]) -> bool:
    """Python form of visible, for one report of a provider in `group_id`, currently routed to
    `routed_to_accounts` (the principal must hold the reports action)."""
    if principal.is_staff:
        return True
    if report.status != ReportStatus.AVAILABLE:
        return False
    if reach.reaches_provider(principal, report.provider_id, group_id):
        return True
    return any(link.account_id in routed_to_accounts
               and report.report_type in routing.RECEIVED_REPORT_TYPES[link.account_kind]
               for link in principal.account_links)


def _provider_reach(session: Session, principal: Principal) -> list[ColumnElement[bool]]:
    ids = reach.provider_ids(session, principal)
    return [Report.provider_id.in_(sorted(ids))] if ids else []


def _client_reach(principal: Principal) -> list[ColumnElement[bool]]:
    # Grouped by account kind, since the kind decides which report types arrive.
    by_kind: dict[str, list[int]] = {}
    for link in principal.account_links:
        by_kind.setdefault(link.account_kind, []).append(link.account_id)
    return [_receivable(kind) & routed_to(accounts) for kind, accounts in sorted(by_kind.items())]


def _receivable(account_kind: str) -> ColumnElement[bool]:
    # Written as the types the kind does NOT receive: an IN list of nearly every type looks
    # selective to SQLite's planner, which then walks the type index instead of a better one.
    excluded = sorted(set(REPORT_TYPES) - routing.RECEIVED_REPORT_TYPES[account_kind])
    return Report.report_type.not_in(excluded) if excluded else true()


def in_view_of(session: Session, account_id: int) -> ColumnElement[bool]:
    """What one account's users see of the routed reports (for the account filter)."""
    kind = session.scalar(select(Account.kind).where(Account.id == account_id))
    if kind is None:
        return false()
    return _receivable(kind) & routed_to([account_id])


def routed_to(accounts: list[int] | frozenset[int]) -> ColumnElement[bool]:
    """The report is currently in the view of one of these accounts."""
    return exists().where(ReportRecipient.report_id == Report.id,
                          ReportRecipient.account_id.in_(sorted(accounts)))
