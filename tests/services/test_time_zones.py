"""Each person's time zone: the browser's at the first sign-in (UTC when it sends none or an
unknown one), changed only by the person themselves, audited; posting-date filters mean the
person's own calendar days. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime, timezone

import pytest

from db.models import User
from services import time_zones
from services.errors import InvalidInput, PermissionDenied
from services.identity.time_zone import adopt_browser_zone, set_time_zone
from services.privacy import audit_review, incidents
from services.privacy.audit_review import AuditFilter
from services.reports import search
from services.reports.search import ReportFilter
from tests.services.report_world import add_report, events, listing, load_principal


def _stored(db, user_id: int) -> str | None:
    with db.transaction(write=False) as session:
        return session.get(User, user_id).time_zone


def test_first_sign_in_keeps_the_browsers_zone_and_audits_it(db, make_user):
    ana = make_user("ana@example.test")
    principal = load_principal(db, ana)
    assert principal.time_zone is None

    assert adopt_browser_zone(db, principal, browser_zone="America/Chicago") == "America/Chicago"

    assert _stored(db, ana) == "America/Chicago"
    assert load_principal(db, ana).time_zone == "America/Chicago"
    [event] = events(db, "time_zone.changed")
    assert (event.actor_user_id, event.target_id) == (ana, str(ana))
    assert event.details == {"from": "none", "to": "America/Chicago", "source": "browser at first sign-in"}


@pytest.mark.parametrize("browser_zone", [None, "", "Mars/Olympus_Mons", "../../etc/passwd",
                                          "america/chicago", "CST"])
def test_a_missing_or_unknown_browser_zone_falls_back_to_utc(db, make_user, browser_zone):
    ana = make_user("ana@example.test")
    assert adopt_browser_zone(db, load_principal(db, ana), browser_zone=browser_zone) == "UTC"
    assert _stored(db, ana) == "UTC"


def test_a_later_sign_in_never_overrides_the_stored_zone(db, make_user):
    ana = make_user("ana@example.test")
    set_time_zone(db, load_principal(db, ana), user_id=ana, time_zone="America/Denver")
    # A stale principal from before (another tab) with a browser in another zone.
    stale = dataclasses.replace(load_principal(db, ana), time_zone=None)

    assert adopt_browser_zone(db, stale, browser_zone="Europe/London") == "America/Denver"
    assert _stored(db, ana) == "America/Denver"
    assert len(events(db, "time_zone.changed")) == 1


def test_a_person_changes_their_own_zone(db, make_user):
    ana = make_user("ana@example.test")
    adopt_browser_zone(db, load_principal(db, ana), browser_zone="America/Chicago")

    assert set_time_zone(db, load_principal(db, ana), user_id=ana,
                         time_zone="America/New_York") == "America/New_York"

    assert _stored(db, ana) == "America/New_York"
    assert events(db, "time_zone.changed")[-1].details == {"from": "America/Chicago",
                                                           "to": "America/New_York"}


def test_an_unknown_zone_is_refused_and_nothing_changes(db, make_user):
    ana = make_user("ana@example.test")
    set_time_zone(db, load_principal(db, ana), user_id=ana, time_zone="America/Chicago")
    with pytest.raises(InvalidInput):
        set_time_zone(db, load_principal(db, ana), user_id=ana, time_zone="Atlantis/Capital")
    assert _stored(db, ana) == "America/Chicago"
    assert len(events(db, "time_zone.changed")) == 1


@pytest.mark.parametrize("staff", [(), ("system_admin",)])
def test_nobody_changes_another_persons_zone_not_even_an_admin(db, make_user, staff):
    ana = make_user("ana@example.test")
    other = make_user("boss@example.test", staff=staff)
    set_time_zone(db, load_principal(db, ana), user_id=ana, time_zone="America/Chicago")

    with pytest.raises(PermissionDenied):
        set_time_zone(db, load_principal(db, other), user_id=ana, time_zone="Asia/Tokyo")

    assert _stored(db, ana) == "America/Chicago"
    [denied] = events(db, "permission.denied")
    assert (denied.actor_user_id, denied.target_id) == (other, str(ana))
    # The privacy officer reads what was refused in words.
    reviewer = load_principal(db, make_user("privacy@example.test", staff=("privacy_officer",)))
    [line] = audit_review.search(db, reviewer, where=AuditFilter(labels=("Permission denied",))).lines
    assert line.details() == "Refused: Change another person's time zone"


def test_the_zone_list_puts_common_us_zones_first_and_holds_every_zone():
    offered = time_zones.choices()
    assert offered[:2] == ["America/New_York", "America/Chicago"]
    assert len(offered) == len(set(offered)) > 400
    assert "Europe/Berlin" in offered and "UTC" in offered


def test_posting_days_are_the_persons_own_calendar_days(db, world):
    # 03:30 UTC on 20 November is 21:30 CST on the 19th in Chicago.
    late_evening = datetime(2026, 11, 20, 3, 30, tzinfo=timezone.utc)
    report = add_report(db, report_type="ccf", patient_id=next(iter(world.patient.values())),
                        provider_id=next(iter(world.provider.values())), posted_at=late_evening)
    support = world.user["support"]
    on_the_19th = ReportFilter(posted_from=date(2026, 11, 19), posted_to=date(2026, 11, 19))
    on_the_20th = ReportFilter(posted_from=date(2026, 11, 20), posted_to=date(2026, 11, 20))

    def found(report_filter: ReportFilter) -> set[int]:
        principal = load_principal(db, support)
        page = search.search(db, principal, report_filter, purpose=listing(principal))
        assert page.count == len(page.rows)
        return {row.id for row in page.rows}

    adopt_browser_zone(db, load_principal(db, support), browser_zone="UTC")
    assert report in found(on_the_20th) and report not in found(on_the_19th)

    set_time_zone(db, load_principal(db, support), user_id=support, time_zone="America/Chicago")
    assert report in found(on_the_19th) and report not in found(on_the_20th)


def test_a_calendar_day_across_a_daylight_saving_change_is_its_real_length():
    chicago = time_zones.zone_of("America/Chicago")
    start, end = time_zones.days_between(date(2026, 11, 1), date(2026, 11, 1), chicago)
    assert start == datetime(2026, 11, 1, 5, 0, tzinfo=timezone.utc)  # midnight CDT
    assert end == datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)    # midnight CST: 25 hours


def test_the_audit_export_says_its_times_are_utc_whatever_the_readers_zone(db, make_user):
    officer = make_user("privacy@example.test", staff=("privacy_officer",))
    set_time_zone(db, load_principal(db, officer), user_id=officer, time_zone="America/Chicago")

    exported = audit_review.export_csv(db, load_principal(db, officer),
                                       where=audit_review.AuditFilter())

    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Event", "Time (UTC)"]
    code = rows[0].index("Action code")
    changed = next(row for row in rows[1:] if row[code] == "time_zone.changed")
    assert changed[1].endswith("+00:00")


def test_the_incident_export_names_utc_in_every_time_columns_header(db, make_user):
    officer = make_user("privacy@example.test", staff=("privacy_officer",))
    set_time_zone(db, load_principal(db, officer), user_id=officer, time_zone="America/Chicago")
    start, end = time_zones.days_between(date(2026, 11, 1), date(2026, 11, 30),
                                         time_zones.zone_of("America/Chicago"))

    exported = incidents.export_csv(db, load_principal(db, officer), start=start, end=end)

    [header] = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert [h for h in header if "(UTC)" in h] == ["Discovered (UTC)", "Removed (UTC)",
                                                   "Closed (UTC)"]
