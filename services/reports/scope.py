"""Which reports a principal may see, as one SQL condition every report query starts from.

Staff with the reports action see every report in any status. Provider users see the available
reports of their providers (a group admin: every provider of the group). Client users see the
available reports routed to their accounts, limited to the report types their kind of account
receives. Anyone else sees nothing: the condition is false, never "no filter".
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from db.models import REPORT_TYPES, Account, Provider, Report, ReportRecipient
from services.policy import Action, Role
from services.principals import Principal
from services.reports import routing


def visible(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The condition on Report rows this principal may see; refuses anyone without the action."""
    principal.require(Action.VIEW_REPORTS)
    if principal.is_staff:
        return true()
    reach = [*_provider_reach(session, principal), *_client_reach(principal)]
    if not reach:
        return false()
    return and_(Report.status == "available", or_(*reach))


def provider_ids(session: Session, principal: Principal) -> frozenset[int] | None:
    """Providers whose reports the principal sees (None: all of them, for staff)."""
    if principal.is_staff:
        return None
    groups = {link.group_id for link in principal.provider_links
              if link.role == Role.PROVIDER_GROUP_ADMIN}
    ids = {link.provider_id for link in principal.provider_links if link.provider_id is not None}
    if groups:
        ids |= set(session.scalars(select(Provider.id).where(Provider.group_id.in_(groups))))
    return frozenset(ids)


def account_ids(principal: Principal) -> frozenset[int] | None:
    """Client accounts whose routed reports the principal sees (None: all, for staff)."""
    if principal.is_staff:
        return None
    return frozenset(link.account_id for link in principal.account_links)


def _provider_reach(session: Session, principal: Principal) -> list[ColumnElement[bool]]:
    ids = provider_ids(session, principal)
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
