"""Password hashes: bcrypt cost 12, salted, interchangeable with streamlit-authenticator's Hasher,
and a verifier that never raises and never accepts a password bcrypt would silently truncate."""

from __future__ import annotations

import pytest
from streamlit_authenticator.utilities.hasher import Hasher

from services.identity import passwords

PASSWORD = "Correct-Horse-Battery-9!"


@pytest.fixture
def our_hash(portal_bcrypt_cost) -> str:
    return passwords.hash_password(PASSWORD)


def test_our_hash_is_bcrypt_cost_12_and_verifies_with_hasher(our_hash):
    assert our_hash.startswith("$2b$12$") and len(our_hash) == 60
    assert Hasher.is_hash(our_hash)
    assert Hasher.check_pw(PASSWORD, our_hash) is True
    assert Hasher.check_pw(PASSWORD + "x", our_hash) is False


def test_hasher_hash_verifies_with_our_verifier():
    theirs = Hasher.hash(PASSWORD)
    assert theirs.startswith("$2b$12$")
    assert passwords.verify_password(PASSWORD, theirs) is True
    assert passwords.verify_password(PASSWORD.lower(), theirs) is False


def test_an_unknown_email_is_checked_against_a_cost_12_decoy(portal_bcrypt_cost, monkeypatch):
    checked = []
    real_check = passwords.bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda pw, h: checked.append(h[:7]) or real_check(pw, h))
    assert passwords.verify_password(PASSWORD, None) is False
    assert checked == [b"$2b$12$"]


def test_the_same_password_hashes_differently_each_time(our_hash):
    again = passwords.hash_password(PASSWORD)
    assert again != our_hash and again[7:29] != our_hash[7:29]  # different salts
    assert passwords.verify_password(PASSWORD, again) and passwords.verify_password(PASSWORD, our_hash)


def test_a_password_over_72_bytes_is_false_not_an_error():
    exactly_72 = "a" * 72
    stored = passwords.hash_password(exactly_72)
    assert passwords.verify_password(exactly_72, stored) is True
    # bcrypt looks at 72 bytes only: a longer password sharing them must still be refused.
    assert passwords.verify_password(exactly_72 + "extra", stored) is False
    assert passwords.verify_password("é" * 40, stored) is False  # 80 bytes, 40 characters
    with pytest.raises(ValueError):
        passwords.hash_password(exactly_72 + "b")


@pytest.mark.parametrize("stored", [None, "", "not a bcrypt hash", "$2b$12$short"])
def test_a_missing_or_broken_hash_is_false_not_an_error(stored):
    assert passwords.verify_password(PASSWORD, stored) is False
