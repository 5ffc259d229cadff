"""Who sees the Dashboard, what it counts, and that nothing about a patient leaves through it."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from services.errors import InvalidInput, PermissionDenied
from services.identity import auth
from services.insight import dashboard
from services.insight.dashboard import DashboardFilter
from services.reports import access, bundle_links
from tests.conftest import PASSWORD
from tests.services.report_world import PATIENTS, World, events

UTC = timezone.utc
ALL_OF_2026 = DashboardFilter(start=date(2026, 1, 1), end=date(2026, 12, 31))


@pytest.mark.parametrize("who, sees_incidents", [("manager", True), ("support", True),
                                                  ("account_rep", False)])
def test_staff_with_the_dashboard_see_it_and_incident_counts_only_where_allowed(world, who,
                                                                              sees_incidents):
    board = dashboard.overview(world.db, world.principal(who), ALL_OF_2026)
    assert board.totals["reports"] == 10
    assert (board.incidents is not None) == sees_incidents


@pytest.mark.parametrize("who", ["acme_user", "globex_user", "gadmin_north", "staff_p1a", "privacy"])
def test_everyone_else_is_refused_and_the_refusal_is_audited(world, who):
    before = len(events(world.db, "permission.denied"))
    with pytest.raises(PermissionDenied):
        dashboard.overview(world.db, world.principal(who), ALL_OF_2026)
    with pytest.raises(PermissionDenied):
        dashboard.choices(world.db, world.principal(who))
    assert len(events(world.db, "permission.denied")) == before + 2


def test_a_manager_cannot_open_preview_or_download_a_report(world):
    manager, report_id = world.principal("manager"), world.report["acme_ccf"]
    attempts = [
        lambda: access.open_report(world.db, manager, report_id),
        lambda: access.pdf_bytes(world.db, manager, report_id, blob_store=world.store),
        lambda: access.first_page(world.db, manager, report_id, blob_store=world.store),
        lambda: bundle_links.create(world.db, manager, [report_id], bundle_format="zip"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    denied = events(world.db, "permission.denied")
    assert len(denied) == len(attempts)
    assert not events(world.db, "report.opened") and not events(world.db, "report.downloaded")


def test_no_patient_identifier_reaches_the_dashboard_or_its_exports(world):
    manager = world.principal("manager")
    patient_words = {word.lower() for first, last, _, employee_id, _ in PATIENTS.values()
                     for word in (first, last, employee_id)}
    for split in dashboard.SPLITS:
        board = dashboard.overview(world.db, manager, ALL_OF_2026, split=split, grain="day")
        frames = [board.volume, board.turnaround, board.adoption, board.lifecycle,
                  board.activity, board.accounts, board.incidents]
        for frame in frames:
            text = dashboard.export_csv(world.db, manager, frame, table="check").decode("utf-8-sig")
            words = set(text.lower().replace('"', " ").replace(",", " ").split())
            assert not words & patient_words, split
    assert len(events(world.db, "dashboard.exported")) == 7 * len(dashboard.SPLITS)


def test_exports_are_formula_safe_and_refused_after_the_role_is_gone(world):
    import pandas as pd

    manager = world.principal("manager")
    hostile = pd.DataFrame({"account": ["=HYPERLINK(\"http://x\")", "+1", "Fine Co."],
                            "reports": [1, 2, 3]})
    text = dashboard.export_csv(world.db, manager, hostile, table="accounts").decode("utf-8-sig")
    assert "\"'=HYPERLINK" in text and "\"'+1\"" in text and "\"Fine Co.\"" in text
    with pytest.raises(PermissionDenied):
        dashboard.export_csv(world.db, world.principal("acme_user"), hostile, table="accounts")


def test_client_activity_counts_sign_ins_openings_and_downloads_per_account(world, fake_clock):
    fake_clock.current = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    user = world.principal("acme_and_payco")
    auth.sign_in(world.db, email=user.email, password=PASSWORD)
    access.open_report(world.db, user, world.report["acme_injury"])  # acme and payco
    access.pdf_bytes(world.db, user, world.report["acme_ccf"], blob_store=world.store)
    staff = world.principal("support")
    access.open_report(world.db, staff, world.report["acme_ccf"])  # staff do not count
    board = dashboard.overview(world.db, world.principal("manager"), ALL_OF_2026, grain="day")
    day = board.activity.set_index("period").loc[date(2026, 10, 2)]
    assert (day["sign-ins"], day["opens"], day["downloads"], day["active users"]) == (2, 2, 1, 1)
    accounts = board.accounts.set_index("account")
    assert accounts.loc["Acme Freight", "downloads"] == 1
    assert accounts.loc["Payco Mutual", "active users"] == 1
    assert accounts.loc["Globex Logistics", "active users"] == 0


def test_first_openings_make_the_opened_within_3_days_share(world, fake_clock):
    manager = world.principal("manager")
    fake_clock.current = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)  # 2 days after posting
    access.open_report(world.db, world.principal("acme_user"), world.report["acme_ccf"])
    fake_clock.current = datetime(2026, 10, 20, tzinfo=UTC)  # 16 days after posting
    access.open_report(world.db, world.principal("globex_user"), world.report["globex_ccf"])
    board = dashboard.overview(world.db, manager, ALL_OF_2026, grain="month")
    october = board.adoption.set_index("period").loc[date(2026, 10, 1)]
    assert october["opened"] == 2 and october["opened within 3 days"] == 1
    # The world's October reports: 8 sent to an account (one is unrouted); one opened in time.
    assert october["reports sent to an account"] == 8
    assert october["share opened within 3 days (%)"] == round(100 / 8, 1)


def test_an_empty_period_gives_empty_tables_and_no_shares(world):
    quiet = DashboardFilter(start=date(2025, 1, 1), end=date(2025, 1, 31))
    board = dashboard.overview(world.db, world.principal("manager"), quiet)
    assert board.volume.empty and board.turnaround.empty and board.adoption.empty
    assert board.totals["reports"] == 0
    assert board.totals["non_injury_within_72h"] is None
    assert board.totals["opened_within_3_days"] is None


@pytest.mark.parametrize("chosen, message", [
    (DashboardFilter(start=date(2026, 2, 1), end=date(2026, 1, 1)), "before the start"),
    (DashboardFilter(start=date(2020, 1, 1), end=date(2026, 1, 1)), "three years"),
    (DashboardFilter(start=date(2026, 1, 1), end=date(2026, 2, 1), report_types=("x",)),
     "Unknown report type"),
])
def test_bad_filters_get_a_clear_message(world, chosen, message):
    with pytest.raises(InvalidInput, match=message):
        dashboard.overview(world.db, world.principal("manager"), chosen)


def test_splits_and_grains_are_checked(world):
    with pytest.raises(InvalidInput):
        dashboard.overview(world.db, world.principal("manager"), ALL_OF_2026, grain="hour")
    with pytest.raises(InvalidInput):
        dashboard.overview(world.db, world.principal("manager"), ALL_OF_2026, split="patient")
    # Someone without the Dashboard is refused (and audited) whatever they ask for.
    with pytest.raises(PermissionDenied):
        dashboard.overview(world.db, world.principal("acme_user"), ALL_OF_2026, grain="hour")


def test_weeks_start_on_monday_and_months_on_the_first(world: World):
    manager = world.principal("manager")
    weeks = dashboard.overview(world.db, manager, ALL_OF_2026, grain="week").volume
    months = dashboard.overview(world.db, manager, ALL_OF_2026, grain="month").volume
    assert {period.weekday() for period in weeks["period"]} == {0}
    assert {period.day for period in months["period"]} == {1}
    assert weeks["reports"].sum() == months["reports"].sum() == 10
