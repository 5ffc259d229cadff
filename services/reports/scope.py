"""Which reports a principal may see, as one SQL condition every report query starts from.

Staff with the reports action see every report in any status. Provider users see the available
and the withdrawn reports of their providers (a group admin: every provider of the group): the
clinic keeps reading what it withdrew or replaced by a correction; archived ones stay with staff.
Client users see the available reports routed to their accounts, so a withdrawn or replaced
report leaves their view at once (access.py tells them why when they ask for it by id). Which types an account receives is decided once,
when a report is posted (services/reports/routing.py): the routing row is the record, so a later
change to the account's report types neither hides a report it received nor shows an old one.
Anyone else sees nothing: the condition is false, never "no filter".

Which providers and client accounts a principal reaches comes from services/reach.py; this
module adds what is about reports (statuses, routing). visible is the SQL form and sees the
Python form of one report; keep them together.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, true
from sqlalchemy.orm import Session

from db.models import Report, ReportRecipient
from services import reach
from services.policy import Action
from services.principals import Principal
from services.statuses import ReportStatus

# What the clinic sees of its own reports: withdrawn and replaced ones stay readable to it.
PROVIDER_STATUSES = (ReportStatus.AVAILABLE, ReportStatus.WITHDRAWN)


def visible(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The condition on Report rows this principal may see; refuses anyone without the action."""
    principal.require(Action.VIEW_REPORTS)
    if principal.is_staff:
        return true()
    places = [and_(Report.status.in_(PROVIDER_STATUSES), place)
              for place in _provider_reach(session, principal)]
    places += [and_(Report.status == ReportStatus.AVAILABLE, place)
               for place in _client_reach(principal)]
    if not places:
        return false()
    return or_(*places)


def sees(principal: Principal, report: Report, *, group_id: int,
         routed_to_accounts: frozenset[int]) -> bool:
    """Python form of visible, for one report of a provider in `group_id`, currently routed to
    `routed_to_accounts` (the principal must hold the reports action)."""
    if principal.is_staff:
        return True
    if (report.status in PROVIDER_STATUSES
            and reach.reaches_provider(principal, report.provider_id, group_id)):
        return True
    if report.status != ReportStatus.AVAILABLE:
        return False
    return any(link.account_id in routed_to_accounts for link in principal.account_links)


def _provider_reach(session: Session, principal: Principal) -> list[ColumnElement[bool]]:
    ids = reach.provider_ids(session, principal)
    return [Report.provider_id.in_(sorted(ids))] if ids else []


def _client_reach(principal: Principal) -> list[ColumnElement[bool]]:
    accounts = frozenset(link.account_id for link in principal.account_links)
    return [routed_to(accounts)] if accounts else []


def in_view_of(account_id: int) -> ColumnElement[bool]:
    """What one account's users see of the routed reports (for the account filter)."""
    return routed_to([account_id])


def routed_to(accounts: list[int] | frozenset[int]) -> ColumnElement[bool]:
    """The report is currently in the view of one of these accounts."""
    return exists().where(ReportRecipient.report_id == Report.id,
                          ReportRecipient.account_id.in_(sorted(accounts)))
