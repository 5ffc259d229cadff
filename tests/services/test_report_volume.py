"""The Dashboard's rollup against the report rows it summarises, on SQLite and PostgreSQL.

Random report sets are posted, opened, flagged, re-routed, archived and re-delivered through
the services; then every number the Dashboard shows for a range of filters is compared with the
same number worked out here in plain Python from the report rows, and the incrementally kept
rollup is compared with a full rebuild.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.models import AccountVolumeDaily, Provider, Report, ReportRecipient, ReportVolumeDaily
from services.errors import DomainError, PermissionDenied
from services.insight import dashboard, report_volume
from services.insight.dashboard import DashboardFilter
from services.privacy import incidents
from services.reports import access, retention
from tests.services.report_world import ACCOUNTS, GROUPS, PROVIDERS, World, add_report

UTC = timezone.utc
FIRST_DAY = date(2026, 8, 1)
DAYS = 90
CLIENTS = ("acme_user", "acme_user2", "globex_user", "payco_user", "tpa_user", "acme_and_payco")
TYPES = ("ccf", "atf", "injury_status", "referral", "first_notice", "no_show",
         "transcription_summary")
_labels = count()

reports_strategy = st.lists(st.fixed_dictionaries({
    "report_type": st.sampled_from(TYPES),
    "provider": st.sampled_from(sorted(PROVIDERS)),
    "day": st.integers(0, DAYS - 1),
    "second": st.integers(0, 86_399),
    "micro": st.integers(0, 999_999),
    "lag_hours": st.integers(0, 150),  # service date this many hours before posting (whole days)
    "injury": st.booleans(),
    "recipients": st.sets(st.sampled_from(sorted(ACCOUNTS)), max_size=3),
}), min_size=1, max_size=7)

steps_strategy = st.lists(st.one_of(
    st.tuples(st.just("open"), st.sampled_from(CLIENTS), st.integers(0, 20), st.integers(0, 200)),
    st.tuples(st.just("download"), st.sampled_from(CLIENTS), st.integers(0, 20), st.integers(0, 200)),
    st.tuples(st.just("flag"), st.sampled_from(CLIENTS), st.integers(0, 20), st.integers(0, 200)),
    st.tuples(st.just("reroute"), st.sampled_from(sorted(ACCOUNTS)), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("archive"), st.just(""), st.integers(0, DAYS + 70), st.just(0)),
    st.tuples(st.just("redeliver"), st.just(""), st.integers(0, 20), st.just(0)),
), max_size=8)


def _post(world: World, spec: dict) -> int:
    posted = (datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
              + timedelta(days=spec["day"], seconds=spec["second"], microseconds=spec["micro"]))
    service = (posted - timedelta(hours=spec["lag_hours"])).date()
    return add_report(world.db, report_type=spec["report_type"],
                      patient_id=world.patient["maria"], provider_id=world.provider[spec["provider"]],
                      posted_at=posted, service_date=service, injury=spec["injury"],
                      state=PROVIDERS[spec["provider"]][2],
                      recipients=tuple(world.account[a] for a in sorted(spec["recipients"])),
                      label=f"volume-{next(_labels)}")


def _run(world: World, fake_clock, step: tuple, ids: list[int]) -> None:
    kind, who, pick, minutes = step
    report_id = ids[pick % len(ids)]
    with world.db.transaction(write=False) as session:
        posted = session.get(Report, report_id).posted_at
    fake_clock.current = posted + timedelta(hours=minutes)
    try:
        if kind == "open":
            access.open_report(world.db, world.principal(who), report_id)
        elif kind == "download":
            access.pdf_bytes(world.db, world.principal(who), report_id, blob_store=world.store)
        elif kind == "flag":
            incidents.flag(world.db, world.principal(who), report_id=report_id)
        elif kind == "reroute":
            support = world.principal("support")
            queue = incidents.queue(world.db, support)
            if queue:
                incidents.reroute(world.db, support, incident_id=queue[pick % len(queue)].id,
                                  account_id=world.account[who])
        elif kind == "archive":
            moment = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(days=pick)
            fake_clock.current = moment
            retention.archive_expired(world.db, now=moment)
        elif kind == "redeliver":
            access.redeliver(world.db, world.principal("support"), report_id)
    except (PermissionDenied, DomainError, FileNotFoundError):
        pass  # out of scope, not archived, no PDF in the store: refused, nothing counted


def _raw(world: World) -> tuple[list[dict], dict[int, list]]:
    with world.db.transaction(write=False) as session:
        reports = [dict(id=r.id, report_type=r.report_type, provider_id=r.provider_id,
                        group_id=group, state=r.state, injury=r.injury, posted_at=r.posted_at,
                        service_date=r.service_date, delivered_at=r.delivered_at, status=r.status)
                   for r, group in session.execute(select(Report, Provider.group_id).join(
                       Provider, Provider.id == Report.provider_id))]
        routes: dict[int, list] = defaultdict(list)
        for route in session.scalars(select(ReportRecipient)):
            routes[route.report_id].append((route.account_id, route.first_opened_at))
    return reports, routes


def _seconds(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _expected(reports, routes, chosen: DashboardFilter, names: dict) -> dict:
    """Every Dashboard number, computed from the rows without the rollup."""
    volume, by_day, per_account = Counter(), defaultdict(Counter), Counter()
    account_table: dict[str, Counter] = defaultdict(Counter)
    for report in reports:
        day = report["posted_at"].astimezone(UTC).date()
        if not (chosen.start <= day <= chosen.end):
            continue
        if chosen.group_id is not None and report["group_id"] != chosen.group_id:
            continue
        if chosen.report_types and report["report_type"] not in chosen.report_types:
            continue
        recipients = routes.get(report["id"], [])
        if chosen.account_id is not None:
            units = [[(a, opened)] for a, opened in recipients if a == chosen.account_id]
        else:
            units = [recipients]
        posted = _seconds(report["posted_at"])
        turnaround = posted - _seconds(datetime.combine(report["service_date"], datetime.min.time(),
                                                         tzinfo=UTC))
        for account_id, opened in recipients:
            if chosen.account_id in (None, account_id):
                per_account[(day, names[account_id])] += 1
                account_table[names[account_id]]["reports"] += 1
                account_table[names[account_id]]["opened_3d"] += (
                    opened is not None and _seconds(opened) - posted <= 3 * 86_400)
        for unit in units:
            openings = [opened for _, opened in unit if opened is not None]
            first = min(openings) if openings else None
            volume[(day, names[report["report_type"]])] += 1
            counts = by_day[day]
            counts["posted"] += 1
            counts["routed"] += bool(unit)
            counts["opened"] += first is not None
            counts["opened_3d"] += first is not None and _seconds(first) - posted <= 3 * 86_400
            counts["archived"] += report["status"] == "archived"
            counts["redelivered"] += report["delivered_at"] > report["posted_at"]
            if not report["injury"]:
                counts["non_injury"] += 1
                counts["turnaround"] += turnaround
                counts["within_72h"] += turnaround <= 72 * 3600
    return {"volume": volume, "by_day": by_day, "per_account": per_account,
            "accounts": {name: (c["reports"], c["opened_3d"]) for name, c in account_table.items()}}


def _shown(world: World, chosen: DashboardFilter) -> dict:
    board = dashboard.overview(world.db, world.principal("manager"), chosen, grain="day")
    volume = Counter({(row["period"], row["segment"]): row["reports"]
                      for row in board.volume.to_dict("records")})
    by_day = defaultdict(Counter)
    for row in board.lifecycle.to_dict("records"):
        by_day[row["period"]].update({"posted": row["posted"], "archived": row["archived now"],
                                      "redelivered": row["re-delivered"]})
    for row in board.adoption.to_dict("records"):
        by_day[row["period"]].update({"routed": row["reports sent to an account"],
                                      "opened": row["opened"],
                                      "opened_3d": row["opened within 3 days"]})
    for row in board.turnaround.to_dict("records"):
        by_day[row["period"]].update({"non_injury": row["non-injury reports"],
                                      "within_72h": row["posted within 72 hours"]})
        by_day[row["period"]]["average_hours"] = row["average hours to posting"]
    accounts = {row["account"]: (row["reports"], row["opened within 3 days"])
                for row in board.accounts.to_dict("records")}
    return {"volume": +volume, "by_day": by_day, "totals": board.totals, "accounts": accounts}


def _filters(world: World) -> list[DashboardFilter]:
    every = DashboardFilter(start=FIRST_DAY - timedelta(days=90), end=FIRST_DAY + timedelta(days=DAYS))
    middle = DashboardFilter(start=FIRST_DAY + timedelta(days=20), end=FIRST_DAY + timedelta(days=50))
    return [every, middle,
            *(DashboardFilter(start=every.start, end=every.end, account_id=world.account[key])
              for key in ACCOUNTS),
            *(DashboardFilter(start=every.start, end=every.end, group_id=world.group[key])
              for key in GROUPS),
            DashboardFilter(start=every.start, end=every.end, report_types=("ccf", "injury_status")),
            DashboardFilter(start=middle.start, end=middle.end, account_id=world.account["acme"],
                            group_id=world.group["north"], report_types=("ccf", "first_notice"))]


def _check(world: World) -> None:
    reports, routes = _raw(world)
    choices = dashboard.choices(world.db, world.principal("manager"))
    names = {**choices.report_types, **choices.accounts}
    for chosen in _filters(world):
        expected, shown = _expected(reports, routes, chosen, names), _shown(world, chosen)
        assert shown["volume"] == expected["volume"], chosen
        assert shown["accounts"] == expected["accounts"], chosen
        by_account = dashboard.volume(world.db, world.principal("manager"), chosen, grain="day",
                                      split="account")
        assert +Counter({(row["period"], row["segment"]): row["reports"]
                         for row in by_account.to_dict("records")}) == expected["per_account"]
        for day, counts in expected["by_day"].items():
            got = shown["by_day"][day]
            for measure in ("posted", "routed", "opened", "opened_3d", "archived", "redelivered",
                            "non_injury", "within_72h"):
                assert got[measure] == counts[measure], (chosen, day, measure)
            if counts["non_injury"]:
                # Shown to one decimal; pandas and Python may round an exact half apart.
                exact = counts["turnaround"] / 3600 / counts["non_injury"]
                assert abs(got["average_hours"] - exact) <= 0.05 + 1e-9, (chosen, day)
        assert set(shown["by_day"]) == set(expected["by_day"]), chosen
        posted = sum(c["posted"] for c in expected["by_day"].values())
        assert shown["totals"]["reports"] == posted


def _rollup(world: World) -> tuple[set[tuple], set[tuple]]:
    with world.db.transaction(write=False) as session:
        fine = {tuple(getattr(row, c) for c in (*report_volume.KEY, "group_id", *report_volume.MEASURES))
                for row in session.scalars(select(ReportVolumeDaily))}
        per_account = {tuple(getattr(row, c) for c in (*report_volume.ACCOUNT_KEY,
                                                       *report_volume.ACCOUNT_MEASURES))
                       for row in session.scalars(select(AccountVolumeDaily))}
    return fine, per_account


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=reports_strategy, steps=steps_strategy)
def test_the_dashboard_equals_a_direct_count_of_the_report_rows(world, fake_clock, specs, steps):
    ids = [_post(world, spec) for spec in specs]
    for step in steps:
        _run(world, fake_clock, step, ids)
    _check(world)
    kept = _rollup(world)
    report_volume.rebuild(world.db)
    assert _rollup(world) == kept


def test_the_world_is_counted_once_per_report_and_once_per_recipient(world):
    every = DashboardFilter(start=date(2026, 1, 1), end=date(2026, 12, 31))
    board = dashboard.overview(world.db, world.principal("manager"), every, split="account")
    with world.db.transaction(write=False) as session:
        routes = session.scalars(select(ReportRecipient)).all()
    assert board.totals["reports"] == 10
    assert board.volume["reports"].sum() == len(routes) == 13
    acme = board.volume[board.volume["segment"] == "Acme Freight"]["reports"].sum()
    assert acme == 6


@pytest.mark.parametrize("mutation", ["archive", "flag", "open"])
def test_a_change_is_counted_once_even_when_repeated(world, fake_clock, mutation):
    """Repeating a change (a second archive run, a second opening) adds nothing."""
    report_id = world.report["acme_ccf"]
    fake_clock.current = datetime(2026, 10, 3, tzinfo=UTC)
    for _ in range(2):
        if mutation == "archive":
            retention.archive_expired(world.db, now=datetime(2026, 12, 31, tzinfo=UTC))
        elif mutation == "flag":
            try:
                incidents.flag(world.db, world.principal("acme_user"), report_id=report_id)
            except PermissionDenied:
                pass  # the second time the report is no longer in this user's view
        else:
            access.open_report(world.db, world.principal("acme_user"), report_id)
            access.open_report(world.db, world.principal("acme_user2"), report_id)
    _check(world)
    kept = _rollup(world)
    report_volume.rebuild(world.db)
    assert _rollup(world) == kept
