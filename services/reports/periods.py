"""The "Posted" presets of the report search: the person's calendar days ending today."""

from __future__ import annotations

from datetime import date, timedelta, timezone, tzinfo

from services import clock
from services.errors import InvalidInput
from services.reports.retention import RETENTION_PERIOD

ANY_TIME = "Any time"
CUSTOM_RANGE = "Custom range"
# How many calendar days each preset covers, today included. The longest is how long a client
# sees a report before it archives.
_DAYS = {"Today": 1, "Last 7 days": 7, "Last 30 days": 30,
         f"Last {RETENTION_PERIOD.days} days": RETENTION_PERIOD.days}
PRESETS = (ANY_TIME, *_DAYS, CUSTOM_RANGE)


def posted_between(preset: str, *, custom: tuple[date, ...] = (),
                   zone: tzinfo = timezone.utc) -> tuple[date | None, date | None]:
    """The first and last posting day a preset means, as calendar days in `zone` (the person's,
    which the search also reads the days in); the typed dates for a custom range.

    Dates typed while "Any time" is chosen count as a custom range: the person asked for them.
    A preset with dates typed too, or a custom range without dates, is refused with the reason.
    """
    if preset not in PRESETS:
        raise InvalidInput("Choose when the reports were posted.")
    if preset in _DAYS:
        if custom:  # both a preset and dates: which did the person mean? Ask, rather than guess.
            raise InvalidInput(f"Choose either “{preset}” or the dates under Posted between "
                               "(with Custom range), not both.")
        today = clock.now().astimezone(zone).date()
        return today - timedelta(days=_DAYS[preset] - 1), today
    if not custom:
        if preset == CUSTOM_RANGE:
            raise InvalidInput("Choose the first and last day of the custom range under Posted "
                               "between.")
        return None, None
    return custom[0], custom[-1]
