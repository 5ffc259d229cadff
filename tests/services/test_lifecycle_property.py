"""Random lives of reports (posted, corrected, withdrawn, flagged as received in error, archived
when the clock moves on, re-delivered) through the services, on SQLite and PostgreSQL: every
total the Dashboard returns, and its archive table per day, equals a direct count over the
report rows, and the rollup kept step by step equals a full rebuild."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timezone
from itertools import count

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.models import Report, ReportRecipient
from services.errors import DomainError, PermissionDenied
from services.insight import dashboard, report_volume
from services.insight.dashboard import DashboardFilter
from services.privacy import incidents
from services.reports import access, corrections, ingest, retention
from tests.conftest import START
from tests.services.report_world import ACCOUNTS, PROVIDERS, World, add_report, pdf_for
from tests.services.test_report_volume import _rollup

UTC = timezone.utc
CLIENTS = ("acme_user", "globex_user", "payco_user", "tpa_user")
CLINIC = ("support", "admin_p1b", "gadmin_north", "staff_p1a", "staff_p2a")
_labels = count()

steps_strategy = st.lists(st.one_of(
    st.tuples(st.just("post"), st.sampled_from(sorted(PROVIDERS)),
              st.sets(st.sampled_from(sorted(ACCOUNTS)), max_size=2), st.booleans()),
    st.tuples(st.just("correct"), st.sampled_from(CLINIC), st.integers(0, 30), st.just(False)),
    st.tuples(st.just("withdraw"), st.sampled_from(CLINIC), st.integers(0, 30),
              st.sampled_from(sorted(corrections.WITHDRAWAL_REASONS))),
    st.tuples(st.just("flag"), st.sampled_from(CLIENTS), st.integers(0, 30), st.just(False)),
    st.tuples(st.just("open"), st.sampled_from(CLIENTS), st.integers(0, 30), st.just(False)),
    st.tuples(st.just("archive"), st.just(""), st.integers(0, 90), st.just(False)),
    st.tuples(st.just("redeliver"), st.just(""), st.integers(0, 30), st.just(False)),
), min_size=1, max_size=7)


def _ids(world: World) -> list[int]:
    with world.db.transaction(write=False) as session:
        return list(session.scalars(select(Report.id).order_by(Report.id)))


def _run(world: World, fake_clock, step: tuple) -> None:
    kind, who, pick, extra = step
    fake_clock.advance(hours=7)  # time only moves on, as it does for people
    ids = _ids(world)
    report_id = ids[pick % len(ids)] if isinstance(pick, int) else None
    try:
        if kind == "post":
            add_report(world.db, report_type="ccf", patient_id=world.patient["maria"],
                       provider_id=world.provider[who], posted_at=fake_clock.current,
                       injury=extra, state=PROVIDERS[who][2],
                       recipients=tuple(world.account[a] for a in sorted(pick)),
                       label=f"life-{next(_labels)}")
        elif kind == "correct":
            corrections.correct(world.db, world.principal(who), report_id=report_id,
                                data=pdf_for(f"life-fix-{next(_labels)}", 1),
                                blob_store=world.store)
        elif kind == "withdraw":
            corrections.withdraw(world.db, world.principal(who), report_id=report_id, reason=extra)
        elif kind == "flag":
            incidents.flag(world.db, world.principal(who), report_id=report_id)
        elif kind == "open":
            access.open_report(world.db, world.principal(who), report_id)
        elif kind == "archive":
            fake_clock.advance(days=pick)
            retention.archive_expired(world.db)
        elif kind == "redeliver":
            access.redeliver(world.db, world.principal("support"), report_id)
        event(f"{kind}: done")
    except (PermissionDenied, DomainError):
        event(f"{kind}: refused")  # out of reach, not archived, already withdrawn: nothing counted


def _direct(world: World) -> tuple[Counter, dict[date, Counter]]:
    """The Dashboard's totals and archive table worked out from the report rows."""
    totals: Counter = Counter()
    by_day: dict[date, Counter] = defaultdict(Counter)
    with world.db.transaction(write=False) as session:
        routed = set(session.scalars(select(ReportRecipient.report_id)))
        for report in session.scalars(select(Report)):
            counts = Counter(
                reports=1, archived=report.status == "archived",
                redelivered=report.delivered_at > report.posted_at,
                corrections=report.corrects_report_id is not None,
                withdrawn=report.status == "withdrawn", routed=report.id in routed)
            totals.update(counts)
            by_day[report.posted_at.astimezone(UTC).date()].update(counts)
    return totals, by_day


def _check(world: World) -> None:
    totals, by_day = _direct(world)
    every = DashboardFilter(start=date(2026, 1, 1), end=date(2028, 12, 31))
    board = dashboard.overview(world.db, world.principal("manager"), every, grain="day")
    for measure in ("reports", "archived", "redelivered", "corrections", "withdrawn"):
        assert board.totals[measure] == totals[measure], measure
    shown = {row["period"]: row for row in board.lifecycle.to_dict("records")}
    assert set(shown) == set(by_day)
    for day, counts in by_day.items():
        row = shown[day]
        assert (row["posted"], row["archived now"], row["re-delivered"], row["corrections"],
                row["withdrawn now"]) == (counts["reports"], counts["archived"],
                                          counts["redelivered"], counts["corrections"],
                                          counts["withdrawn"]), day
    sent = sum(row["reports sent to an account"] for row in board.adoption.to_dict("records"))
    assert sent == totals["routed"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=steps_strategy)
def test_every_dashboard_number_equals_a_count_of_the_report_rows(world, fake_clock, monkeypatch,
                                                                  steps):
    # The file checks and first-page drawing run in child processes; test_corrections covers
    # them. Here only what a correction does to the counts matters, so they are skipped.
    monkeypatch.setattr(ingest, "check_file", lambda data: 1)
    monkeypatch.setattr(ingest, "draw_unless_known", lambda db, sha256, data: None)
    # The world lives on from one example to the next; its clock starts again each time, so
    # every posting stays inside the Dashboard's longest range.
    fake_clock.current = START
    for step in steps:
        _run(world, fake_clock, step)
    _check(world)
    kept = _rollup(world)
    report_volume.rebuild(world.db)
    assert _rollup(world) == kept
