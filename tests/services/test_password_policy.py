"""The password rules, their messages, and the help text generated from them."""

from __future__ import annotations

import pytest

from services import password_policy
from services.errors import InvalidInput


def test_a_good_passphrase_passes():
    assert password_policy.problems("Harbor-Lights-2026", email="fran@lakeside.example",
                                    name="Fran First") == []
    password_policy.check("Demo-Password-1!")  # contains a common word, is not one


@pytest.mark.parametrize("password, fragment", [
    ("Sh0rt!pass", "12 to 64 characters"),
    ("x" * 60 + "A1!" + "y" * 5, "12 to 64 characters"),
    ("all-lowercase-1", "an uppercase letter"),
    ("ALL-UPPERCASE-1", "a lowercase letter"),
    ("No-Numbers-Here", "a number"),
    ("NoSpecials12345", "a special character"),
    ("Password123!", "too common"),
    ("!!Qwerty2026??", "too common"),
])
def test_each_rule_names_what_is_wrong(password, fragment):
    assert any(fragment in problem for problem in password_policy.problems(password))


def test_the_72_byte_limit_of_bcrypt_is_explained():
    problems = password_policy.problems("Ab1!" + "é" * 40)  # 44 characters, 84 bytes
    assert any("72 bytes" in p for p in problems)


def test_the_email_and_the_name_are_not_allowed():
    assert any("email address or name" in p for p in password_policy.problems(
        "Fran.first-2026!", email="fran.first@lakeside.example"))
    assert any("email address or name" in p for p in password_policy.problems(
        "Lakeside-Fran-99", name="Fran Lakeside"))


def test_all_problems_are_reported_at_once():
    with pytest.raises(InvalidInput) as refused:
        password_policy.check("abc")
    message = str(refused.value)
    assert "12 to 64 characters" in message and "an uppercase letter" in message


def test_length_only_policy_drops_composition_and_asks_for_15(monkeypatch):
    monkeypatch.setenv("RESULTSDESK_PASSWORD_POLICY", "length")
    assert password_policy.problems("correct horse battery") == []
    assert any("15 to 64" in p for p in password_policy.problems("shortpassphrase"[:14]))
    assert password_policy.help_text() == ["15 to 64 characters", "not your email address or name",
                                           "not a common password"]


def test_help_text_is_one_line_per_enforced_rule():
    assert password_policy.help_text() == [
        "12 to 64 characters",
        "an uppercase letter, a lowercase letter, a number and a special character",
        "not your email address or name", "not a common password"]


def test_the_shipped_list_is_loaded():
    common = password_policy.common_passwords()
    assert len(common) > 300 and {"password", "qwerty", "123456", "letmein"} <= common
