"""Reports received in error: removal from the flagging account's view, and a claim-safe queue."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.blob_store import BlobStore
from db.models import Account, Incident, Report, ReportRecipient, User
from services import clock, principals
from services.demo import seed
from services.errors import InvalidInput, PermissionDenied
from services.privacy import incidents
from services.reports import access, search
from tests.conftest import START, principal_of


@pytest.fixture
def demo(db, tmp_path, fake_clock):
    store = BlobStore(tmp_path / "blobs")
    seed.seed(db, blob_store=store, reports=300, patients=100, now=START, previews=False)
    return store


def test_flagging_removes_the_report_from_the_account_at_once(db, demo):
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    access.open_report(db, employer, report.id)
    [incident_id] = incidents.flag(db, employer, report_id=report.id, note="Not our employee")
    after = {row.id for row in search.search(db, employer, search.ReportFilter()).rows}
    assert report.id not in after
    with pytest.raises(PermissionDenied):
        access.pdf_bytes(db, employer, report.id, blob_store=demo)
    privacy = principal_of(db, "privacy@demo.test")
    [row] = incidents.queue(db, privacy)
    assert (row.id, row.report_id, row.status) == (incident_id, report.id, "open")
    assert row.deadline == row.discovered_at + timedelta(days=60)
    # The report is out of the employer's view now: flagging it again is refused like any
    # other request for a report one cannot see.
    with pytest.raises(PermissionDenied):
        incidents.flag(db, employer, report_id=report.id)


def test_support_logs_a_phone_report_and_others_may_not(db, demo):
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    account = employer.account_links[0].account_id
    with pytest.raises(PermissionDenied):
        incidents.log_phone_report(db, principal_of(db, "manager@demo.test"), report_id=report.id,
                                   account_id=account)
    incidents.log_phone_report(db, principal_of(db, "support@demo.test"), report_id=report.id,
                               account_id=account, note="Called the hotline")
    assert report.id not in {r.id for r in search.search(
        db, employer, search.ReportFilter()).rows}


def test_one_incident_has_one_assignee(db, demo):
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    [incident_id] = incidents.flag(db, employer, report_id=report.id)
    incidents.claim(db, principal_of(db, "privacy@demo.test"), incident_id=incident_id)
    with pytest.raises(InvalidInput, match="already taken"):  # one incident, one assignee
        incidents.claim(db, principal_of(db, "support@demo.test"), incident_id=incident_id)


def test_eight_people_claiming_from_fifty_incidents_take_each_exactly_once(db, demo, make_user):
    support = principal_of(db, "support@demo.test")
    with db.transaction(write=False) as session:
        routed = session.execute(select(Report.id).order_by(Report.id)).scalars().all()
    opened = 0
    employer = principal_of(db, "employer@demo.test")
    visible = [r.id for r in search.search(db, employer, search.ReportFilter()).rows]
    account = employer.account_links[0].account_id
    for report_id in visible:
        if opened == 50:
            break
        incidents.log_phone_report(db, support, report_id=report_id, account_id=account)
        opened += 1
    assert opened == 50 and routed
    workers = [principal_of(db, "privacy@demo.test")] + [
        _principal_by_id(db, make_user(f"officer{i}@example.test", staff=("privacy_officer",)))
        for i in range(7)]
    taken: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(workers))

    def work(principal):
        start.wait()
        while True:
            got = incidents.claim_next(db, principal)
            if got is None:
                return
            with lock:
                taken.append(got)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken) == sorted(set(taken)) and len(taken) == opened
    with db.transaction(write=False) as session:
        assert all(i.assignee_id is not None for i in session.scalars(select(Incident)))


def _principal_by_id(db, user_id):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _flagged(db, demo):
    employer = principal_of(db, "employer@demo.test")
    report = search.search(db, employer, search.ReportFilter()).rows[0]
    access.open_report(db, employer, report.id)
    access.pdf_bytes(db, employer, report.id, blob_store=demo)
    [incident_id] = incidents.flag(db, employer, report_id=report.id)
    return employer, report, incident_id


def test_the_access_history_shows_what_the_wrong_account_did(db, demo):
    employer, report, incident_id = _flagged(db, demo)
    history = incidents.access_history(db, principal_of(db, "privacy@demo.test"), incident_id=incident_id)
    assert [(a.who, a.action) for a in history] == [
        ("employer@demo.test", "report.opened"), ("employer@demo.test", "report.downloaded")]
    # Staff opening it for the review does not count as the wrong account's access.
    support = principal_of(db, "support@demo.test")
    access.open_report(db, support, report.id)
    again = incidents.access_history(db, principal_of(db, "privacy@demo.test"), incident_id=incident_id)
    assert {a.who for a in again} == {"employer@demo.test"}


def test_assess_close_and_reopen(db, demo):
    _, _, incident_id = _flagged(db, demo)
    privacy = principal_of(db, "privacy@demo.test")
    with pytest.raises(InvalidInput, match="risk assessment"):
        incidents.close(db, privacy, incident_id=incident_id, resolution="Done")
    with pytest.raises(InvalidInput, match="Assess every factor"):
        incidents.assess(db, privacy, incident_id=incident_id, factors={"nature": "name, DOB"},
                         outcome="low_probability")
    factors = {"nature": "Name, date of birth, drug test result", "recipient": "Another employer's HR",
               "acquired": "Opened and downloaded", "mitigation": "Deletion attested in writing"}
    with pytest.raises(PermissionDenied):
        incidents.assess(db, principal_of(db, "support@demo.test"), incident_id=incident_id,
                         factors=factors, outcome="low_probability")
    incidents.assess(db, privacy, incident_id=incident_id, factors=factors,
                     outcome="low_probability", attested_destroyed=True)
    incidents.close(db, privacy, incident_id=incident_id, resolution="Removed; destruction attested.")
    assert incidents.queue(db, privacy) == []
    [closed] = incidents.queue(db, privacy, status="closed")
    assert closed.id == incident_id
    incidents.reopen(db, privacy, incident_id=incident_id)
    assert [r.id for r in incidents.queue(db, privacy)] == [incident_id]


def test_rerouting_sends_the_report_to_the_right_account(db, demo):
    employer, report, incident_id = _flagged(db, demo)
    with db.transaction(write=False) as session:
        other = session.scalar(select(Account.id).where(Account.kind == "employer",
                                                        Account.id != employer.account_links[0].account_id))
    incidents.reroute(db, principal_of(db, "support@demo.test"), incident_id=incident_id, account_id=other)
    with pytest.raises(InvalidInput):
        incidents.reroute(db, principal_of(db, "support@demo.test"), incident_id=incident_id,
                          account_id=employer.account_links[0].account_id)
    with db.transaction(write=False) as session:
        assert session.get(ReportRecipient, (report.id, other)) is not None


def test_the_privacy_log_exports_as_formula_safe_csv(db, demo):
    employer, report, incident_id = _flagged(db, demo)
    privacy = principal_of(db, "privacy@demo.test")
    factors = {k: "=HYPERLINK(\"http://x.example\")" for k in incidents.FACTORS}
    incidents.assess(db, privacy, incident_id=incident_id, factors=factors, outcome="breach")
    incidents.record_notification(db, privacy, incident_id=incident_id,
                                  individuals_on="2026-11-25", authority_on=None)
    incidents.close(db, privacy, incident_id=incident_id, resolution="+1 call made; -removed; @hr")
    now = clock.now()
    data = incidents.export_csv(db, privacy, start=now - timedelta(days=1), end=now + timedelta(days=1))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "Incident" and len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Incident"] == str(incident_id) and record["Outcome"] == "breach"
    assert record["Individuals notified"] == "2026-11-25"
    assert record["Resolution"] == "'+1 call made; -removed; @hr"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    with pytest.raises(PermissionDenied):
        incidents.export_csv(db, principal_of(db, "support@demo.test"), start=now - timedelta(days=1),
                             end=now)


def test_a_phone_report_names_the_account_exactly_as_it_is_written(db, demo):
    employer = principal_of(db, "employer@demo.test")
    link = employer.account_links[0]
    support = principal_of(db, "support@demo.test")
    assert incidents.account_named(db, support, f"  {link.account_name} ") == link.account_id
    for wrong in (link.account_name.upper(), link.account_name[:-1], ""):
        with pytest.raises(InvalidInput) as refused:
            incidents.account_named(db, support, wrong)
        assert str(refused.value) == "No client account has that name."
    with pytest.raises(PermissionDenied):
        incidents.account_named(db, principal_of(db, "manager@demo.test"), link.account_name)


def test_confirming_the_removal_keeps_the_report_out_of_the_wrong_view(db, demo):
    employer, report, incident_id = _flagged(db, demo)
    support = principal_of(db, "support@demo.test")
    wrong = employer.account_links[0].account_id
    incidents.reroute(db, support, incident_id=incident_id, account_id=next(
        a for a in incidents.account_names(db, support) if a != wrong))
    with db.transaction() as session:  # someone routed it back to the wrong account by mistake
        session.add(ReportRecipient(report_id=report.id, account_id=wrong, routed_at=clock.now()))
    incidents.confirm_removal(db, support, incident_id=incident_id)
    with db.transaction(write=False) as session:
        assert session.get(ReportRecipient, (report.id, wrong)) is None
    detail = incidents.detail(db, support, incident_id=incident_id)
    assert detail.assessment["removal_confirmed_by"] == "support@demo.test"
