"""Support and account representatives list patients' reports only with a purpose: the search
service refuses them without one, and records each search they run with its purpose and which
filters it used, never a patient's name or employee ID."""

from __future__ import annotations

import json

import pytest

from services.errors import InvalidInput
from services.privacy import audit_review
from services.privacy.audit_review import AuditFilter
from services.reports import access, list_purpose, search
from services.reports.search import ReportFilter
from tests.services.report_world import events

SEARCHED = "reports.searched"


def _purpose(reason: str = "Support request from the client or clinic", reference: str = ""):
    return list_purpose.for_visit(access.purpose(reason, reference))


@pytest.mark.parametrize("user_key", ["support", "account_rep"])
def test_support_and_account_reps_are_refused_without_a_purpose(db, world, user_key):
    principal = world.principal(user_key)
    named = ReportFilter(patient_name="Gonzalez")
    for attempt in (lambda: search.search(world.db, principal, named),
                    lambda: search.count(world.db, principal, named),
                    lambda: search.matching_ids(world.db, principal, named, limit=10)):
        with pytest.raises(InvalidInput, match="Choose why"):
            attempt()
    assert events(world.db, SEARCHED) == []


@pytest.mark.parametrize("user_key", ["privacy", "acme_user", "staff_p1a"])
def test_others_are_not_asked_and_not_recorded(db, world, user_key):
    assert search.search(world.db, world.principal(user_key), ReportFilter()).rows
    assert events(world.db, SEARCHED) == []


def test_a_search_is_recorded_with_its_purpose_and_filters_never_the_patient(db, world):
    support = world.principal("support")
    purpose = _purpose("HIPAA incident review", "SR-1042")
    report_filter = ReportFilter(patient_name="Gonzalez", employee_id="E100",
                                 report_types=("ccf", "atf"), state="tx", read="new")
    page = search.search(world.db, support, report_filter, purpose=purpose)
    assert {row.patient_name for row in page.rows} == {"Gonzalez, Maria"}

    [event] = events(world.db, SEARCHED)
    assert event.actor_user_id == world.user["support"] and event.outcome == "success"
    assert event.details == {
        "purpose": "HIPAA incident review", "reference": "SR-1042", "visit": purpose.visit,
        "filter": {"report_types": ["atf", "ccf"], "name_filter": True,
                   "employee_id_filter": True, "state": "TX", "read": "new"}}
    stored = json.dumps(event.details).lower()
    assert "gonzalez" not in stored and "maria" not in stored and "e100" not in stored

    reviewer = world.principal("privacy")
    [line] = audit_review.search(world.db, reviewer,
                                 where=AuditFilter(labels=("Reports searched for a purpose",))).lines
    assert line.details().startswith("Purpose: HIPAA incident review (ticket SR-1042)")
    assert ("Filter: report types atf and ccf, name filter yes, employee id filter yes, state TX, "
            "read new") in line.details()
    assert "Gonzalez" not in line.details()


def test_the_same_search_in_one_visit_is_recorded_once(db, world):
    account_rep = world.principal("account_rep")
    purpose = _purpose()
    acme_ccf = ReportFilter(report_types=("ccf",))
    first = search.search(world.db, account_rep, acme_ccf, purpose=purpose)
    # Reruns of the results, the count, a page turn and Search pressed again add nothing.
    search.search(world.db, account_rep, acme_ccf, purpose=purpose, with_count=False)
    search.count(world.db, account_rep, acme_ccf, purpose=purpose)
    search.matching_ids(world.db, account_rep, acme_ccf, limit=100, purpose=purpose)
    search.search(world.db, account_rep, acme_ccf, purpose=purpose)
    assert first.rows and len(events(world.db, SEARCHED)) == 1
    # Another filter is another search; going back to the first one is recorded again.
    search.search(world.db, account_rep, ReportFilter(service_from=first.rows[0].service_date),
                  purpose=purpose)
    search.search(world.db, account_rep, acme_ccf, purpose=purpose)
    recorded = events(world.db, SEARCHED)
    assert [e.details["filter"] for e in recorded] == [
        {"report_types": ["ccf"]}, {"service_from": first.rows[0].service_date.isoformat()},
        {"report_types": ["ccf"]}]
    # A new visit (the screen left and opened again) records its first search afresh.
    again = _purpose()
    search.search(world.db, account_rep, acme_ccf, purpose=again)
    recorded = events(world.db, SEARCHED)
    assert len(recorded) == 4 and recorded[-1].details["visit"] == again.visit != purpose.visit


def test_a_refused_filter_is_not_recorded(db, world):
    support = world.principal("support")
    with pytest.raises(InvalidInput):
        search.search(world.db, support, ReportFilter(patient_name="!!!"), purpose=_purpose())
    assert events(world.db, SEARCHED) == []


def test_a_purpose_outside_the_fixed_list_or_a_long_reference_is_refused(db, world):
    with pytest.raises(InvalidInput):
        _purpose("Curious about a neighbour")
    with pytest.raises(InvalidInput):
        _purpose(reference="Maria Gonzalez born 1980")
