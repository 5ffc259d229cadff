"""Time zones people see times in: IANA names checked against the zone database.

Times are stored in UTC; a person's zone only changes how a time is shown and which UTC instants
a calendar day they pick covers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC_NAME = "UTC"

# Offered first on My account: most people of the portal's clients work in these.
COMMON_US = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
             "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu")


def checked(name: str | None) -> str | None:
    """The IANA zone name if the zone database knows it, else None."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name not in _known():
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone_of(name: str | None) -> ZoneInfo:
    """The zone to show times in: the named one, or UTC when none is stored or it is unknown."""
    return ZoneInfo(checked(name) or UTC_NAME)


def choices() -> list[str]:
    """Every known zone, the common US ones first, then the rest sorted."""
    rest = sorted(_known() - set(COMMON_US))
    return [name for name in COMMON_US if name in _known()] + rest


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which a calendar day begins in a zone."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def days_between(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering the calendar days first..last in a zone."""
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())
