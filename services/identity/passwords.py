"""Password hashing: bcrypt, cost 12, the same format streamlit-authenticator's Hasher writes.

Hashing is done with bcrypt directly because importing streamlit_authenticator loads Streamlit
itself, and the services layer must not. tests/security/test_password_hashes.py proves that
Hasher and this module accept each other's hashes.
"""

from __future__ import annotations

from functools import lru_cache

import bcrypt

ROUNDS = 12
BCRYPT_MAX_BYTES = 72
MIN_LENGTH = 12
MAX_LENGTH = 64


def hash_password(password: str) -> str:
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        raise ValueError("password longer than bcrypt can hash")
    return bcrypt.hashpw(encoded, bcrypt.gensalt(rounds=ROUNDS)).decode("ascii")


def prepare() -> None:
    """Make the decoy hash now, so the first unknown-email sign-in is not the slow one."""
    _decoy_hash()


@lru_cache(maxsize=1)
def _decoy_hash() -> bytes:
    return bcrypt.hashpw(b"decoy password, never matches a sign-in", bcrypt.gensalt(rounds=ROUNDS))


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; costs one bcrypt check even when there is no hash."""
    encoded = password.encode("utf-8")
    usable = password_hash is not None and len(encoded) <= BCRYPT_MAX_BYTES
    target = password_hash.encode("ascii") if usable else _decoy_hash()
    try:
        matched = bcrypt.checkpw(encoded[:BCRYPT_MAX_BYTES], target)
    except ValueError:
        return False
    return matched and usable
