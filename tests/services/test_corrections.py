"""Corrections and withdrawals of posted reports, as the clinic, the recipients and support meet
them: a correction replaces the report for every recipient (the old one leaves their view and
stays readable to the clinic), chains of corrections, who may do either, what a recipient asking
for a withdrawn report is told, and who had opened a report before it was replaced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Report, ReportRecipient
from services.errors import InvalidInput, PermissionDenied, ReportWithdrawn
from services.privacy import incidents
from services.reports import access, corrections, retention, search
from services.reports.search import ReportFilter
from tests.services.report_world import events, expect_denial, pdf_for, reads, report_row


def _found(world, user_key: str, report_filter: ReportFilter = ReportFilter()) -> dict[int, search.ReportRow]:
    page = search.search(world.db, world.principal(user_key), report_filter)
    return {row.id: row for row in page.rows}


def _recipients(world, report_id: int) -> set[int]:
    with world.db.transaction(write=False) as session:
        return set(session.scalars(select(ReportRecipient.account_id)
                                   .where(ReportRecipient.report_id == report_id)))


def _correct(world, user_key: str, key_or_id, label: str = "fixed") -> int:
    report_id = world.report[key_or_id] if isinstance(key_or_id, str) else key_or_id
    return corrections.correct(world.db, world.principal(user_key), report_id=report_id,
                               data=pdf_for(label, 1), blob_store=world.store)


def test_a_correction_replaces_the_report_for_every_recipient(db, world, fake_clock):
    old = world.report["acme_injury"]  # Northside East, sent to Acme and Payco
    access.open_report(world.db, world.principal("acme_user"), old)
    new = _correct(world, "admin_p1b", "acme_injury", "injury-fixed")

    replaced, correction = report_row(world.db, old), report_row(world.db, new)
    assert (replaced.status, replaced.withdrawn_reason, replaced.withdrawn_at) == (
        "withdrawn", "corrected", fake_clock.current)
    assert correction.corrects_report_id == old and correction.status == "available"
    assert correction.posted_at == correction.delivered_at == fake_clock.current
    for field in ("report_type", "patient_id", "provider_id", "service_date", "injury", "state",
                  "claim_number"):
        assert getattr(correction, field) == getattr(replaced, field), field
    assert _recipients(world, new) == _recipients(world, old) == {
        world.account["acme"], world.account["payco"]}

    assert reads(world.db, world.user["acme_user"]) == {old}
    for user_key in ("acme_user", "payco_user"):
        found = _found(world, user_key)
        assert old not in found and found[new].corrected, user_key
        assert found[new].is_new  # new again, even for the one who opened the old version
        _, data = access.pdf_bytes(world.db, world.principal(user_key), new, blob_store=world.store)
        assert data == pdf_for("injury-fixed", 1)

    # The clinic and staff still open the replaced one, marked as such.
    clinic = _found(world, "admin_p1b")
    assert clinic[old].replaced and clinic[old].status == "withdrawn" and clinic[new].corrected
    assert access.open_report(world.db, world.principal("admin_p1b"), old).status_words == \
        "Replaced by a correction"
    assert access.open_report(world.db, world.principal("support"), old).id == old

    [posted] = [e for e in events(world.db, "report.posted") if e.target_id == str(new)]
    assert posted.details == {"report_type": "injury_status", "recipients": 2, "corrects": old}
    [corrected] = events(world.db, "report.corrected")
    assert (corrected.target_id, corrected.details, corrected.actor_user_id) == (
        str(old), {"correction": new, "recipients": 2}, world.user["admin_p1b"])


def test_a_recipient_asking_for_the_replaced_report_is_sent_to_the_newest(db, world, fake_clock):
    first = world.report["acme_ccf"]
    second = _correct(world, "staff_p1a", "acme_ccf", "ccf-2")
    fake_clock.advance(hours=1)
    third = _correct(world, "staff_p1a", second, "ccf-3")
    assert report_row(world.db, second).status == "withdrawn"
    assert report_row(world.db, third).corrects_report_id == second
    acme = world.principal("acme_user")
    for asked in (first, second):
        with pytest.raises(ReportWithdrawn) as told:
            access.open_report(world.db, acme, asked)
        assert str(told.value) == f"Report {asked} was replaced by a correction: report {third}."
        assert told.value.replaced_by == third
    assert set(_found(world, "acme_user")) & {first, second, third} == {third}
    # Still a refusal in the audit trail.
    denied = events(world.db, "permission.denied")
    assert [e.target_id for e in denied] == [str(first), str(second)]


def test_only_the_newest_version_can_be_corrected(db, world, fake_clock):
    second = _correct(world, "staff_p1a", "acme_ccf", "ccf-2")
    with pytest.raises(InvalidInput, match=f"already replaced by report {second}"):
        _correct(world, "staff_p1a", "acme_ccf", "ccf-3")
    with pytest.raises(InvalidInput, match="already posted"):
        _correct(world, "staff_p1a", second, "ccf-2")  # the same file again
    assert report_row(world.db, second).status == "available"


def test_a_withdrawn_report_cannot_be_corrected(db, world, fake_clock):
    with pytest.raises(InvalidInput, match="withdrawn report cannot be corrected"):
        _correct(world, "staff_p1a", "acme_withdrawn")
    with db.transaction(write=False) as session:
        assert session.scalar(select(Report.id).where(Report.corrects_report_id.is_not(None))) is None


@pytest.mark.parametrize("user_key, target", [
    ("staff_p2a", "acme_ccf"),  # another clinic's report
    ("admin_p1b", "acme_ccf"),  # same group, another provider
    ("acme_user", "acme_ccf"),  # a recipient
    ("account_rep", "acme_ccf"),  # staff without the action
])
def test_a_correction_outside_the_clinic_is_refused_and_audited(db, world, fake_clock, user_key,
                                                                 target):
    principal = world.principal(user_key)
    report_id = world.report[target]
    expect_denial(world.db, principal,
                  lambda: corrections.correct(world.db, principal, report_id=report_id,
                                              data=pdf_for("x", 1), blob_store=world.store),
                  target_type="report", target_id=report_id, action="correct_reports")
    assert report_row(world.db, report_id).status == "available"


def test_a_group_admin_and_support_may_correct(db, world, fake_clock):
    assert _correct(world, "gadmin_north", "acme_injury", "a")
    assert _correct(world, "support", "globex_ccf", "b")


def test_a_withdrawal_leaves_every_view_and_the_recipient_is_told(db, world, fake_clock):
    report_id = world.report["acme_injury"]
    when = corrections.withdraw(world.db, world.principal("admin_p1b"), report_id=report_id,
                                reason="wrong_patient")
    row = report_row(world.db, report_id)
    assert (row.status, row.withdrawn_reason, row.withdrawn_at) == ("withdrawn", "wrong_patient", when)
    [event] = events(world.db, "report.withdrawn")
    assert (event.target_id, event.details, event.actor_user_id) == (
        str(report_id), {"reason": "Posted for the wrong patient"}, world.user["admin_p1b"])
    # Routing rows stay: they are the record of who was sent it.
    assert _recipients(world, report_id) == {world.account["acme"], world.account["payco"]}
    for user_key in ("acme_user", "payco_user"):
        assert report_id not in _found(world, user_key)
        with pytest.raises(ReportWithdrawn, match=rf"^Report {report_id} was withdrawn by the "
                                                  rf"clinic on {when:%Y-%m-%d}\.$"):
            access.open_report(world.db, world.principal(user_key), report_id)
        with pytest.raises(ReportWithdrawn):
            access.pdf_bytes(world.db, world.principal(user_key), report_id, blob_store=world.store)
    # Someone it was never sent to learns nothing.
    with pytest.raises(PermissionDenied) as refused:
        access.open_report(world.db, world.principal("globex_user"), report_id)
    assert type(refused.value) is PermissionDenied
    # The clinic still reads it; a recipient cannot flag it any more.
    assert access.open_report(world.db, world.principal("admin_p1b"), report_id).status_words == \
        "Withdrawn"
    with pytest.raises(PermissionDenied):
        incidents.flag(world.db, world.principal("acme_user"), report_id=report_id)
    with pytest.raises(InvalidInput, match="already withdrawn"):
        corrections.withdraw(world.db, world.principal("admin_p1b"), report_id=report_id,
                             reason="duplicate")


@pytest.mark.parametrize("user_key", ["staff_p1a", "staff_p2a", "acme_user", "account_rep"])
def test_withdrawal_is_for_clinic_admins_and_support(db, world, fake_clock, user_key):
    principal = world.principal(user_key)
    report_id = world.report["acme_ccf"]
    expect_denial(world.db, principal,
                  lambda: corrections.withdraw(world.db, principal, report_id=report_id,
                                               reason="duplicate"),
                  target_type="report", target_id=report_id, action="withdraw_reports")
    assert report_row(world.db, report_id).status == "available"


def test_a_withdrawal_needs_a_reason_from_the_list(db, world, fake_clock):
    with pytest.raises(InvalidInput, match="Choose why"):
        corrections.withdraw(world.db, world.principal("support"),
                             report_id=world.report["acme_ccf"], reason="because")
    assert corrections.withdraw(world.db, world.principal("support"),
                                report_id=world.report["acme_ccf"], reason="other")


def test_earlier_access_lists_who_at_a_recipient_opened_it(db, world, fake_clock):
    report_id = world.report["acme_injury"]
    access.open_report(world.db, world.principal("acme_user"), report_id)
    fake_clock.advance(minutes=5)
    access.pdf_bytes(world.db, world.principal("payco_user"), report_id, blob_store=world.store)
    access.open_report(world.db, world.principal("admin_p1b"), report_id)  # the clinic itself
    _correct(world, "admin_p1b", "acme_injury", "later")
    for reader in ("admin_p1b", "gadmin_north", "support"):
        seen = corrections.earlier_access(world.db, world.principal(reader), report_id)
        assert [(a.email, a.account, a.what) for a in seen] == [
            ("acme_user@x.test", "Acme Freight", "Opened"),
            ("payco_user@x.test", "Payco Mutual", "Downloaded")], reader
        assert seen[1].at - seen[0].at == timedelta(minutes=5)
    # Not for a recipient, nor for another clinic.
    for outsider in ("acme_user", "staff_p2a"):
        with pytest.raises(PermissionDenied):
            corrections.earlier_access(world.db, world.principal(outsider), report_id)


def test_retention_archives_a_correction_but_never_a_withdrawn_report(db, world, fake_clock):
    new = _correct(world, "staff_p1a", "acme_ccf")
    withdrawn = world.report["acme_recheck"]
    corrections.withdraw(world.db, world.principal("support"), report_id=withdrawn, reason="duplicate")
    later = fake_clock.current + timedelta(days=61)
    retention.archive_expired(world.db, now=later)
    assert report_row(world.db, new).status == "archived"
    assert report_row(world.db, world.report["acme_ccf"]).status == "withdrawn"
    assert report_row(world.db, withdrawn).status == "withdrawn"


def test_new_result_emails_count_a_correction_once(db, world, fake_clock):
    acme = world.principal("acme_user")
    before = fake_clock.current
    fake_clock.advance(minutes=1)
    _correct(world, "staff_p1a", "acme_ccf")
    with world.db.transaction(write=False) as session:
        assert search.count_new(session, acme, delivered_after=before,
                                delivered_until=fake_clock.current) == 1
        clinic = world.principal("staff_p1a")
        assert search.count_new(session, clinic, delivered_after=before - timedelta(days=90),
                                delivered_until=fake_clock.current) == len(
            {row.id for row in _found(world, "staff_p1a").values() if row.status == "available"})


def test_an_open_incident_stays_on_the_old_report_and_its_account_gets_no_correction(
        db, world, fake_clock):
    old = world.report["acme_injury"]  # sent to Acme and Payco
    [incident_id] = incidents.flag(world.db, world.principal("payco_user"), report_id=old)
    new = _correct(world, "admin_p1b", "acme_injury", "after-flag")
    assert _recipients(world, new) == {world.account["acme"]}
    assert incidents.detail(world.db, world.principal("support"),
                            incident_id=incident_id).report_id == old
    # Payco no longer holds a routing row: it is refused like any report out of its view.
    with pytest.raises(PermissionDenied) as refused:
        access.open_report(world.db, world.principal("payco_user"), old)
    assert type(refused.value) is PermissionDenied
