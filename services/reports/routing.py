"""Which client accounts receive a report: the results-portal FAQ's report lists.

Payors and TPAs get the injury-care list; employers get that list plus the two employer letters.
State workers' compensation forms are "being added to the portal over time" for everyone.
"""

from __future__ import annotations

from db.models import REPORT_TYPES

EMPLOYER_REPORT_TYPES = frozenset(REPORT_TYPES)
PAYOR_REPORT_TYPES = EMPLOYER_REPORT_TYPES - {"recheck_reminder", "first_notice"}
RECEIVED_REPORT_TYPES: dict[str, frozenset[str]] = {
    "employer": EMPLOYER_REPORT_TYPES,
    "payor": PAYOR_REPORT_TYPES,
    "tpa": PAYOR_REPORT_TYPES,
}


def receives(account_kind: str, report_type: str) -> bool:
    """Whether an account of this kind is sent reports of this type."""
    return report_type in RECEIVED_REPORT_TYPES[account_kind]


def recipients(report_type: str, *, employer: tuple[int, str] | None,
               claim_payer: tuple[int, str] | None) -> list[int]:
    """Account ids a report goes to: the patient's employer and the claim's payor or TPA.

    Each party is given as (account id, account kind); either may be missing.
    """
    routed = []
    for party in (employer, claim_payer):
        if party is not None and receives(party[1], report_type) and party[0] not in routed:
            routed.append(party[0])
    return routed
