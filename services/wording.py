"""How a rule's number reads in a sentence, so screens and emails state the rule from its source."""

from __future__ import annotations

from datetime import timedelta

_SMALL = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_UNITS = {"days": 86400, "hours": 3600, "minutes": 60}
_SHORT = {"days": "d", "hours": "h", "minutes": "min"}


def count(number: int) -> str:
    """A count as a word up to ten ('three'), in figures above ('30')."""
    return _SMALL[number] if 0 <= number < len(_SMALL) else f"{number:,}"


def period(length: timedelta, unit: str, *, spelled: bool = False, short: bool = False) -> str:
    """'90 days', '12 hours', '5 minutes'; with spelled=True 'two hours', with short=True '72 h'
    (whole units only)."""
    amount = int(length.total_seconds() // _UNITS[unit])
    if short:
        return f"{amount:,} {_SHORT[unit]}"
    figure = count(amount) if spelled else f"{amount:,}"
    return f"{figure} {unit if amount != 1 else unit[:-1]}"


def plural(number: int, one: str, many: str) -> str:
    """'1 person', '3 people': the count in figures with the right noun."""
    return f"{number:,} {one if number == 1 else many}"
