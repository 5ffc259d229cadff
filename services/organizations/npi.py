"""National Provider Identifiers: 10 digits, the last a Luhn check digit over '80840' + the first 9."""

from __future__ import annotations

import random

_PREFIX = "80840"


def _luhn_sum(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled from the right, the check digit not yet appended
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return total


def check_digit(first_nine: str) -> str:
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NPI check digit is computed over exactly nine digits")
    return str((10 - _luhn_sum(_PREFIX + first_nine) % 10) % 10)


def is_valid(npi: str) -> bool:
    """True for a 10-digit NPI whose last digit is the right check digit."""
    return len(npi) == 10 and npi.isdigit() and npi[0] in "12" and check_digit(npi[:9]) == npi[9]


def unused(rng: random.Random, used: set[str]) -> str:
    """A random valid NPI not yet in `used`, which it joins: for demo and benchmark data only."""
    while True:
        first_nine = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
        candidate = first_nine + check_digit(first_nine)
        if candidate not in used:
            used.add(candidate)
            return candidate
