"""Which client accounts receive a report when it is posted.

A report goes to the patient's employer and, for a claim, to the claim's payor or TPA: each only
if that account receives the report's type at the moment of posting (its kind's standard set
with the account's own additions and removals, services/reports/report_types.py) and is not
deactivated. The routing rows written then (report_recipients) are the record: a later change
to an account's set or to a type's defaults applies to reports posted after it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Account
from services.reports import report_types


def receiving_accounts(session: Session, account_ids: list[int]) -> dict[int, frozenset[str]]:
    """The types each of these accounts receives now; nothing for a deactivated account."""
    deactivated = set(session.scalars(select(Account.id).where(
        Account.id.in_(sorted(set(account_ids))), Account.deactivated_at.is_not(None))))
    sets = report_types.receiving(session, account_ids)
    return {account_id: frozenset() if account_id in deactivated else types
            for account_id, types in sets.items()}


def routed(report_type: str, parties: list[int | None],
           receives: Mapping[int, frozenset[str]]) -> list[int]:
    """The parties (account ids, None for a missing one) that receive this type, in order."""
    chosen: list[int] = []
    for account_id in parties:
        if account_id is not None and account_id not in chosen \
                and report_type in receives.get(account_id, frozenset()):
            chosen.append(account_id)
    return chosen


def recipients(session: Session, report_type: str, *, employer: int | None,
               claim_payer: int | None) -> list[int]:
    """Account ids a report of this type goes to, posted now: the patient's employer and the
    claim's payor or TPA (either may be missing)."""
    parties = [employer, claim_payer]
    return routed(report_type, parties,
                  receiving_accounts(session, [p for p in parties if p is not None]))
