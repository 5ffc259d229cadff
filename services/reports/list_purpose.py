"""Why support and account representatives list patients' reports, and the record of each search.

Support and account representatives reach every client's reports, but their work is accounts,
not patients: before the Reports screen lists a single patient for them they choose a purpose,
from the same fixed list as for opening a report (access.STAFF_PURPOSES, plus an optional
ticket reference), once per visit of the screen. search.search, search.count and
search.matching_ids refuse them without one, so no screen can skip the question.

Each search they run is recorded as "reports.searched" with the purpose, the visit and which
filters were used. Filters that would name a patient are recorded only as having been used:
{"name_filter": true}, {"employee_id_filter": true}; never the typed name or employee ID. The
same search again in the same visit (a page turn, a tick in the grid, Search pressed twice) is
recorded once: the latest record of the person is compared first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent
from services import audit
from services.errors import InvalidInput
from services.policy import Role
from services.principals import Principal
from services.transaction import transaction

# Staff who are asked. Privacy officers and system admins still name a purpose for every
# report they open (access.purpose_details).
ASKED_ROLES = frozenset({Role.SUPPORT_REP, Role.ACCOUNT_REP})
SEARCHED = "reports.searched"
REFUSAL = "Choose why you are looking at patients' reports before the list is shown."


@dataclass(frozen=True)
class ListPurpose:
    """A purpose chosen for one visit of the Reports screen."""

    reason: str
    reference: str
    # Tells one visit's searches from the next in the audit trail (random, not secret).
    visit: str

    def audit_details(self) -> dict[str, str]:
        details = {"purpose": self.reason, "visit": self.visit}
        if self.reference:
            details["reference"] = self.reference
        return details


def asked(principal: Principal) -> bool:
    """Whether this person chooses a purpose before patients are listed."""
    return bool(principal.staff_roles & ASKED_ROLES)


def for_visit(checked) -> ListPurpose:
    """A new visit's purpose from one checked by access.purpose (the fixed list and a short
    ticket reference; passed in, since access sits above search in the imports)."""
    return ListPurpose(checked.reason, checked.reference, secrets.token_hex(4))


def require(principal: Principal, purpose: ListPurpose | None) -> None:
    if asked(principal) and purpose is None:
        raise InvalidInput(REFUSAL)


def record(db: Database, principal: Principal, purpose: ListPurpose | None,
           used_filters: dict) -> None:
    """Record a search by someone who is asked, unless it repeats their latest record."""
    if not asked(principal) or purpose is None:
        return
    details = {**purpose.audit_details(), "filter": used_filters}
    with transaction(db, write=False) as session:
        latest = session.scalar(
            select(AuditEvent.details).where(AuditEvent.actor_user_id == principal.user_id,
                                             AuditEvent.action == SEARCHED)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(1))
    if latest == details:
        return
    with transaction(db) as session:
        audit.record(session, action=SEARCHED, actor_user_id=principal.user_id,
                     actor_email=principal.email, details=details)
