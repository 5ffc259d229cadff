"""Email addresses: the one check for every address a person types, and the one normal form.

A user's id is their address, and every address a person enters ends up in a To header, so the
same rule serves both: one address, `local@domain.tld`, at most 254 characters, without spaces,
control characters, or the characters that turn one address into several or into a display
name. The outbox checks every address it queues with `is_header_safe` (the same rule without
the domain's shape, so an address stored before this rule still gets its email) before it
becomes a header.
"""

from __future__ import annotations

import re
import unicodedata

from services.errors import InvalidInput

INVALID = "Enter a valid email address, like name@clinic.com."
MAX_LENGTH = 254
_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# Characters that would let one address field become several, or a display name.
_FORBIDDEN = set(' ,;:<>()[]"\\')


def normalise(email: str) -> str:
    """Addresses are compared without case and surrounding spaces (lookups and new addresses)."""
    return email.strip().lower()


def has_line_break_or_control(value: str) -> bool:
    """CR, LF, NUL, tab and the other control characters, plus Unicode line/paragraph separators."""
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value)


def is_header_safe(address: str) -> bool:
    """True when the text is exactly one address a To header can carry, as it stands."""
    if not isinstance(address, str) or has_line_break_or_control(address):
        return False
    local, at, domain = address.partition("@")
    return (bool(at and local and domain) and "@" not in domain and len(address) <= MAX_LENGTH
            and not any(ch in _FORBIDDEN or ch.isspace() for ch in address))


def is_valid(address: str) -> bool:
    """True for one plain address with a dotted domain (name@clinic.com), as it stands."""
    return is_header_safe(address) and _SHAPE.fullmatch(address) is not None


def checked(email: str) -> str:
    """The normal form of an address a person typed, or InvalidInput(INVALID)."""
    address = normalise(email or "")
    if not is_valid(address):
        raise InvalidInput(INVALID)
    return address


MISMATCH = "The two email addresses are not the same: type the address again in both fields."


def confirmed(email: str, again: str) -> str:
    """checked() for an address typed twice (invitation forms): both must be the same address."""
    address = checked(email)
    if normalise(again or "") != address:
        raise InvalidInput(MISMATCH)
    return address
