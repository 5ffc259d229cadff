"""Retention: reports stay available for 60 days from delivery, then archive; staff can
re-deliver an archived report for another 60 days. Seen from the employer's search and the
audit trail, with the clock moved by the test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.errors import InvalidInput, PermissionDenied
from services.reports import access, retention, search
from services.reports.search import ReportFilter
from tests.conftest import START
from tests.services.report_world import (
    add_report,
    events,
    expect_denial,
    listing,
    report_row,
)

DAY = timedelta(days=1)


def _add(world, label: str, delivered_ago: timedelta, *, status: str = "available",
         posted_ago: timedelta | None = None) -> int:
    posted = START - (posted_ago or delivered_ago)
    return add_report(world.db, report_type="ccf", patient_id=world.patient["maria"],
                      provider_id=world.provider["p1a"], posted_at=posted,
                      delivered_at=START - delivered_ago, recipients=(world.account["acme"],),
                      status=status, store=world.store, label=label)


def _found_by_acme(world) -> set[int]:
    page = search.search(world.db, world.principal("acme_user"), ReportFilter())
    return {row.id for row in page.rows}


def _status(world, report_id: int) -> str:
    return report_row(world.db, report_id).status


@pytest.fixture
def aged(db, world, fake_clock):
    """Reports of every age and status around the 60-day line, delivered to Acme."""
    return {
        "old": _add(world, "old", 61 * DAY),
        "just_over": _add(world, "just_over", 60 * DAY + timedelta(microseconds=1)),
        "exactly_60": _add(world, "exactly_60", 60 * DAY),
        "recent": _add(world, "recent", 10 * DAY),
        # Posted long ago but re-delivered recently: the 60 days count from the re-delivery.
        "redelivered": _add(world, "redelivered", 5 * DAY, posted_ago=200 * DAY),
        "old_withdrawn": _add(world, "old_withdrawn", 90 * DAY, status="withdrawn"),
        "old_archived": _add(world, "old_archived", 90 * DAY, status="archived"),
    }


def test_archives_only_what_was_delivered_more_than_60_days_ago(db, world, aged, fake_clock):
    archived_before = {k for k, v in aged.items() if _status(world, v) == "archived"}
    # The world's own reports were delivered in October 2026, under 60 days before START.
    assert retention.archive_expired(world.db) == 2
    statuses = {key: _status(world, report_id) for key, report_id in aged.items()}
    assert statuses == {"old": "archived", "just_over": "archived", "exactly_60": "available",
                        "recent": "available", "redelivered": "available",
                        "old_withdrawn": "withdrawn", "old_archived": "archived"}
    assert archived_before == {"old_archived"}
    assert {_status(world, report_id) for key, report_id in world.report.items()
            if key not in ("acme_archived", "acme_withdrawn")} == {"available"}
    [event] = events(world.db, "reports.archived")
    assert event.details == {"count": 2,
                             "delivered_before": (START - retention.RETENTION_PERIOD).isoformat()}
    assert event.occurred_at == START and event.actor_user_id is None


def test_a_second_run_changes_nothing_and_writes_no_event(db, world, aged, fake_clock):
    assert retention.archive_expired(world.db) == 2
    assert retention.archive_expired(world.db) == 0
    assert len(events(world.db, "reports.archived")) == 1
    # An hour later the report delivered exactly 60 days before START is due, and only it.
    fake_clock.advance(hours=1)
    assert retention.archive_expired(world.db) == 1
    assert retention.archive_expired(world.db) == 0
    assert [e.details["count"] for e in events(world.db, "reports.archived")] == [2, 1]
    assert _status(world, aged["exactly_60"]) == "archived"


def test_nothing_due_writes_no_event(db, world, fake_clock):
    assert retention.archive_expired(world.db) == 0
    assert events(world.db, "reports.archived") == []


def test_archived_reports_leave_the_employers_view(db, world, aged, fake_clock):
    assert {aged["old"], aged["recent"]} <= _found_by_acme(world)
    retention.archive_expired(world.db)
    found = _found_by_acme(world)
    assert aged["old"] not in found and aged["just_over"] not in found
    assert aged["recent"] in found and aged["exactly_60"] in found
    acme = world.principal("acme_user")
    expect_denial(world.db, acme,
                  lambda: access.pdf_bytes(world.db, acme, aged["old"], blob_store=world.store),
                  target_type="report", target_id=aged["old"])
    # Staff still find it, as archived.
    support = world.principal("support")
    support_rows = search.search(world.db, support, ReportFilter(statuses=("archived",)),
                                 purpose=listing(support)).rows
    assert aged["old"] in {row.id for row in support_rows}


def test_redelivery_makes_an_archived_report_available_for_another_60_days(db, world, aged,
                                                                            fake_clock):
    retention.archive_expired(world.db)
    fake_clock.advance(days=3)
    support = world.principal("support")
    when = access.redeliver(world.db, support, aged["old"])
    assert when == fake_clock.now() == START + 3 * DAY
    report = report_row(world.db, aged["old"])
    assert (report.status, report.delivered_at) == ("available", START + 3 * DAY)
    assert report.posted_at == START - 61 * DAY  # posting date unchanged
    [event] = events(world.db, "report.redelivered")
    assert (event.actor_user_id, event.target_type, event.target_id, event.outcome) == (
        support.user_id, "report", str(aged["old"]), "success")
    assert aged["old"] in _found_by_acme(world)
    _, data = access.pdf_bytes(world.db, world.principal("acme_user"), aged["old"],
                                      blob_store=world.store)
    assert data.startswith(b"%PDF")

    # 60 days after the re-delivery it is still there; a moment later it archives again.
    fake_clock.advance(days=60)
    assert retention.archive_expired(world.db) > 0  # everything delivered before it
    assert _status(world, aged["recent"]) == "archived"
    assert _status(world, aged["old"]) == "available"
    fake_clock.advance(seconds=1)
    retention.archive_expired(world.db)
    assert _status(world, aged["old"]) == "archived"
    assert aged["old"] not in _found_by_acme(world)


def test_account_rep_may_redeliver_too(db, world, aged, fake_clock):
    access.redeliver(world.db, world.principal("account_rep"), aged["old_archived"])
    assert _status(world, aged["old_archived"]) == "available"


@pytest.mark.parametrize("user_key", ["acme_user", "globex_user", "gadmin_north", "staff_p1a",
                                      "privacy", "manager"])
def test_users_without_redelivery_are_refused_and_audited(db, world, aged, fake_clock, user_key):
    principal = world.principal(user_key)
    report_id = aged["old_archived"]
    expect_denial(world.db, principal,
                  lambda: access.redeliver(world.db, principal, report_id),
                  target_type="report", target_id=report_id, action="redeliver_reports")
    report = report_row(world.db, report_id)
    assert (report.status, report.delivered_at) == ("archived", START - 90 * DAY)
    assert events(world.db, "report.redelivered") == []


def test_redelivering_a_missing_report_is_refused_and_audited(db, world, fake_clock):
    support = world.principal("support")
    expect_denial(world.db, support, lambda: access.redeliver(world.db, support, 987_654),
                  target_type="report", target_id=987_654, action="redeliver_reports")


@pytest.mark.parametrize("key, status", [("recent", "available"), ("old_withdrawn", "withdrawn")])
def test_only_an_archived_report_can_be_redelivered(db, world, aged, fake_clock, key, status):
    with pytest.raises(InvalidInput, match=f"Only an archived report.*{status}"):
        access.redeliver(world.db, world.principal("support"), aged[key])
    report = report_row(world.db, aged[key])
    assert report.status == status
    assert events(world.db, "report.redelivered") == []


def test_archiving_runs_in_batches(db, world, fake_clock, monkeypatch):
    monkeypatch.setattr(retention, "_BATCH", 3)
    due = [_add(world, f"due-{n}", (61 + n) * DAY) for n in range(7)]
    kept = _add(world, "kept", 59 * DAY)
    assert retention.archive_expired(world.db) == 7
    assert {_status(world, report_id) for report_id in due} == {"archived"}
    assert _status(world, kept) == "available"
    assert sorted(e.details["count"] for e in events(world.db, "reports.archived")) == [1, 3, 3]
    assert retention.archive_expired(world.db) == 0


def test_an_explicit_now_is_honoured(db, world, aged, fake_clock):
    assert retention.archive_expired(world.db, now=START - 30 * DAY) == 0
    world_available = [v for k, v in world.report.items() if _status(world, v) == "available"]
    assert len(world_available) == 8
    # Cutoff 9 days before START: old, just_over, exactly_60, recent and the world's October
    # reports are due; the report re-delivered 5 days before START is not.
    assert retention.archive_expired(world.db, now=START + 51 * DAY) == 4 + 8
    assert _status(world, aged["redelivered"]) == "available"
    assert {_status(world, v) for v in world_available} == {"archived"}
    [event] = events(world.db, "reports.archived")
    assert event.occurred_at == START + 51 * DAY


def test_a_denied_redelivery_changes_nothing_for_the_employer(db, world, aged, fake_clock):
    retention.archive_expired(world.db)
    acme = world.principal("acme_user")
    with pytest.raises(PermissionDenied):
        access.redeliver(world.db, acme, aged["old"])
    assert aged["old"] not in _found_by_acme(world)


def test_two_runs_at_once_archive_each_report_once(db, world, fake_clock, monkeypatch):
    """Safe to run twice at once: together they archive each due report exactly once, and the
    counts in their audit events add up to what changed."""
    import threading

    monkeypatch.setattr(retention, "_BATCH", 3)
    due = [_add(world, f"due-{n}", (61 + n) * DAY) for n in range(10)]
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait(timeout=10)
            results.append(retention.archive_expired(world.db))
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 2
    # Whatever one run left (it may stop early when the other took its batch), a later run finishes.
    total = sum(results) + retention.archive_expired(world.db)
    assert total == 10
    assert {_status(world, report_id) for report_id in due} == {"archived"}
    assert sum(e.details["count"] for e in events(world.db, "reports.archived")) == 10
