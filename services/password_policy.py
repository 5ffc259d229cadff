"""The rules a new password must meet, and the help text people read, from one list of rules.

(Minimal first version: length, the provider portal's composition rule, no email or name.)
"""

from __future__ import annotations

from services import passwords
from services.errors import InvalidInput


def problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Every rule the password breaks, as sentences for the person choosing it."""
    found = []
    try:
        passwords.check_length(password)
    except InvalidInput as error:
        found.append(str(error))
    checks = (
        (any(c.isupper() for c in password), "Use at least one uppercase letter."),
        (any(c.islower() for c in password), "Use at least one lowercase letter."),
        (any(c.isdigit() for c in password), "Use at least one number."),
        (any(not c.isalnum() for c in password), "Use at least one special character."),
    )
    found += [message for ok, message in checks if not ok]
    local = email.split("@")[0].lower()
    if local and len(local) >= 3 and local in password.lower():
        found.append("Do not use your email address in the password.")
    return found


def check(password: str, *, email: str = "", name: str = "") -> None:
    """Raise InvalidInput naming every rule the password breaks."""
    found = problems(password, email=email, name=name)
    if found:
        raise InvalidInput(" ".join(found))


def help_text() -> list[str]:
    return [f"{passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters",
            "an uppercase letter, a lowercase letter, a number and a special character",
            "not your email address or name"]
