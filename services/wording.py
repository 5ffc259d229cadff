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


_KB, _MB, _GB = 1024, 1024 ** 2, 1024 ** 3


def size(number_of_bytes: int) -> str:
    """A file size as people read it: '48 KB' under 0.1 MB, then '1.2 MB', then '2.5 GB'.

    One decimal, dropped when it is zero ('3 MB'); a non-empty file never shows as '0 KB'.
    """
    if number_of_bytes <= 0:
        return "0 KB"
    if number_of_bytes < _MB // 10:
        return f"{max(1, round(number_of_bytes / _KB)):,} KB"
    # Rounded first, so 1,023.96 MB reads '1 GB', not '1,024 MB'.
    megabytes = round(number_of_bytes / _MB, 1)
    if megabytes < 1024:
        return f"{megabytes:,.1f} MB".replace(".0 ", " ")
    return f"{round(number_of_bytes / _GB, 1):,.1f} GB".replace(".0 ", " ")
