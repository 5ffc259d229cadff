"""The "Posted" presets of the report search: whole calendar days ending today, in the person's zone."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from services.errors import InvalidInput
from services.reports import periods


@pytest.mark.parametrize(("preset", "first"), [
    ("Today", date(2026, 11, 2)),
    ("Last 7 days", date(2026, 10, 27)),
    ("Last 30 days", date(2026, 10, 4)),
    ("Last 60 days", date(2026, 9, 4)),
])
def test_a_preset_is_whole_days_ending_today(fake_clock, preset, first):
    assert periods.posted_between(preset) == (first, date(2026, 11, 2))


def test_today_follows_the_clock_across_midnight_utc(fake_clock):
    fake_clock.current = datetime(2026, 11, 2, 23, 59, 59, tzinfo=timezone.utc)
    assert periods.posted_between("Last 7 days") == (date(2026, 10, 27), date(2026, 11, 2))
    fake_clock.advance(seconds=1)
    assert periods.posted_between("Last 7 days") == (date(2026, 10, 28), date(2026, 11, 3))


def test_today_is_the_persons_own_day(fake_clock):
    # 03:30 UTC on 3 November is still the evening of 2 November in Chicago.
    fake_clock.current = datetime(2026, 11, 3, 3, 30, tzinfo=timezone.utc)
    assert periods.posted_between("Today") == (date(2026, 11, 3), date(2026, 11, 3))
    chicago = ZoneInfo("America/Chicago")
    assert periods.posted_between("Today", zone=chicago) == (date(2026, 11, 2), date(2026, 11, 2))
    assert periods.posted_between("Last 7 days", zone=chicago) == (date(2026, 10, 27), date(2026, 11, 2))


def test_a_preset_with_dates_typed_too_is_refused_rather_than_guessed(fake_clock):
    typed = (date(2025, 1, 1), date(2025, 1, 31))
    with pytest.raises(InvalidInput, match="not both"):
        periods.posted_between("Today", custom=typed)


def test_a_custom_range_without_dates_is_refused(fake_clock):
    with pytest.raises(InvalidInput, match="first and last day"):
        periods.posted_between("Custom range")


def test_a_custom_range_is_the_typed_dates_and_one_date_is_that_day(fake_clock):
    typed = (date(2026, 3, 1), date(2026, 3, 9))
    assert periods.posted_between("Custom range", custom=typed) == typed
    assert periods.posted_between("Custom range", custom=(date(2026, 3, 1),)) == (date(2026, 3, 1),
                                                                                  date(2026, 3, 1))


def test_any_time_has_no_dates_unless_some_were_typed(fake_clock):
    assert periods.posted_between("Any time") == (None, None)
    typed = (date(2026, 3, 1), date(2026, 3, 9))
    assert periods.posted_between("Any time", custom=typed) == typed


def test_an_unknown_preset_is_refused(fake_clock):
    with pytest.raises(InvalidInput):
        periods.posted_between("Last 365 days")
