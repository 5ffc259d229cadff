"""Times on the screens are the person's own: their stored zone with its abbreviation, picked on
My account, and the first sign-in without a browser zone (AppTest sends none) shows UTC."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from db.models import User
from pages.common import components
from services.principals import Principal
from tests.pages.conftest import open_screen, sign_in


def _person(zone: str | None) -> Principal:
    return Principal(user_id=1, email="ana@example.test", name="Ana", staff_roles=frozenset(),
                     time_zone=zone)


@pytest.mark.parametrize("moment, zone, shown", [
    (datetime(2026, 12, 1, 14, 15, tzinfo=timezone.utc), "America/Chicago", "2026-12-01 08:15 CST"),
    (datetime(2026, 7, 1, 14, 15, tzinfo=timezone.utc), "America/Chicago", "2026-07-01 09:15 CDT"),
    (datetime(2026, 7, 1, 14, 15, tzinfo=timezone.utc), "America/Phoenix", "2026-07-01 07:15 MST"),
    # Just after midnight UTC is still the evening before in New York.
    (datetime(2026, 12, 2, 0, 30, tzinfo=timezone.utc), "America/New_York", "2026-12-01 19:30 EST"),
    (datetime(2026, 12, 1, 14, 15, tzinfo=timezone.utc), "UTC", "2026-12-01 14:15 UTC"),
    (datetime(2026, 12, 1, 14, 15, tzinfo=timezone.utc), "No/Such_Zone", "2026-12-01 14:15 UTC"),
])
def test_a_time_is_shown_in_the_persons_zone_with_its_abbreviation(moment, zone, shown):
    assert components.local_time(moment, _person(zone)) == shown


def test_no_time_and_no_zone():
    assert components.local_time(None, _person("America/Chicago")) == ""
    # Outside a browser session there is no browser zone either: UTC, and it says so.
    assert components.local_time(datetime(2026, 12, 1, 14, 15, tzinfo=timezone.utc),
                                 None) == "2026-12-01 14:15 UTC"


def test_my_account_changes_the_zone_every_time_is_shown_in(app, demo_db):
    sign_in(app, "admin@demo.test")
    open_screen(app, "my-account")
    picker = app.selectbox(key="my_account_time_zone")
    assert picker.value == "UTC"  # no browser zone at the first sign-in
    assert app.dataframe[0].value["Signed in"].str.endswith(" UTC").all()

    picker.select("America/Chicago").run()

    assert [s.value for s in app.success] == ["Times are now shown in America/Chicago."]
    assert app.selectbox(key="my_account_time_zone").value == "America/Chicago"
    signed_in = app.dataframe[0].value["Signed in"]
    assert signed_in.str.endswith((" CST", " CDT")).all(), list(signed_in)
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(User.time_zone)
                              .where(User.email == "admin@demo.test")) == "America/Chicago"
