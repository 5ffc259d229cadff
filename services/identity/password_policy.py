"""The rules a new password must meet, and the help text people read, from one list of rules.

By default the provider portal's rule: 12 to 64 characters with an uppercase letter, a lowercase
letter, a number and a special character. RESULTSDESK_PASSWORD_POLICY=length switches to a
length-only rule (15 to 64 characters, no composition) as current guidance (NIST SP 800-63B)
recommends. Either way a password may not contain the person's email or name, nor be a common
password (services/identity/common_passwords.txt). Each rule both checks and explains itself, so the
help text shown beside a password field is generated from the rules that are enforced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from services import settings
from services.errors import InvalidInput
from services.identity import passwords

_COMMON_FILE = Path(__file__).resolve().parent / "common_passwords.txt"
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")  # digits, symbols and spaces at either end
POLICIES = ("composition", "length")


class Rule(Protocol):
    """One requirement: `help` is the phrase shown as a bullet, `problem` the sentence when broken."""

    @property
    def help(self) -> str: ...

    def problem(self, password: str, email: str, name: str) -> str | None: ...


@dataclass(frozen=True)
class Length:
    minimum: int
    maximum: int = passwords.MAX_LENGTH

    @property
    def help(self) -> str:
        return f"{self.minimum} to {self.maximum} characters"

    def problem(self, password: str, email: str, name: str) -> str | None:
        if not self.minimum <= len(password) <= self.maximum:
            return f"The password must be {self.minimum} to {self.maximum} characters long."
        if len(password.encode("utf-8")) > passwords.BCRYPT_MAX_BYTES:
            return ("The password is too long: use fewer accented or non-Latin characters "
                    f"(at most {passwords.BCRYPT_MAX_BYTES} bytes).")
        return None


@dataclass(frozen=True)
class Composition:
    help = "an uppercase letter, a lowercase letter, a number and a special character"

    def problem(self, password: str, email: str, name: str) -> str | None:
        missing = [what for what, present in (
            ("an uppercase letter", any(c.isupper() for c in password)),
            ("a lowercase letter", any(c.islower() for c in password)),
            ("a number", any(c.isdigit() for c in password)),
            ("a special character", any(not c.isalnum() for c in password)),
        ) if not present]
        if not missing:
            return None
        listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        return f"Add {listed}."


@dataclass(frozen=True)
class NotPersonal:
    help = "not your email address or name"

    def problem(self, password: str, email: str, name: str) -> str | None:
        lowered, email = password.lower(), email.strip().lower()
        local = email.split("@")[0]
        pieces = [email, local] + re.findall(r"\w+", name.lower())
        if any(len(piece) >= 3 and piece in lowered for piece in pieces):
            return "Do not use your email address or name in the password."
        return None


@dataclass(frozen=True)
class NotCommon:
    help = "not a common password"

    def problem(self, password: str, email: str, name: str) -> str | None:
        lowered = password.lower()
        if lowered in common_passwords() or _EDGES.sub("", lowered) in common_passwords():
            return "This password is too common: choose something less guessable."
        return None


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def rules(policy: str | None = None) -> list[Rule]:
    """The active rules: from the setting unless a policy ("composition" or "length") is named."""
    policy = policy or settings.current().password_policy
    if policy not in POLICIES:
        raise ValueError(f"unknown password policy {policy!r}; expected one of {POLICIES}")
    if policy == "length":
        return [Length(15), NotPersonal(), NotCommon()]
    return [Length(passwords.MIN_LENGTH), Composition(), NotPersonal(), NotCommon()]


def problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Every rule the password breaks, as sentences for the person choosing it."""
    found = [rule.problem(password, email, name) for rule in rules()]
    return [problem for problem in found if problem]


def check(password: str, *, email: str = "", name: str = "") -> None:
    """Raise InvalidInput naming every rule the password breaks."""
    found = problems(password, email=email, name=name)
    if found:
        raise InvalidInput(" ".join(found))


def help_text() -> list[str]:
    """One phrase per enforced rule, for the help beside password fields."""
    return [rule.help for rule in rules()]
