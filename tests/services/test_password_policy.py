"""The password rules, their messages, and the help text generated from them."""

from __future__ import annotations

import pytest

from services.errors import InvalidInput
from services.identity import password_policy


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


def test_the_composition_message_names_only_what_is_missing():
    problem = password_policy.Composition().problem("lowercaseonly", "", "")
    assert problem == "Add an uppercase letter, a number and a special character."
    assert password_policy.Composition().problem("Nearly-there-x", "", "") == "Add a number."
    assert password_policy.Composition().problem("Quite-Fine-12", "", "") is None


def test_length_counts_characters_and_stops_at_64():
    length = password_policy.Length(12)
    assert length.problem("Ab1!" + "x" * 8, "", "") is None  # exactly 12
    assert length.problem("Ab1!" + "x" * 60, "", "") is None  # exactly 64
    assert "12 to 64" in length.problem("Ab1!" + "x" * 7, "", "")
    assert "12 to 64" in length.problem("Ab1!" + "x" * 61, "", "")


def test_multibyte_characters_count_against_bcrypts_72_bytes():
    length = password_policy.Length(12)
    assert length.problem("Aa1!" + "é" * 34, "", "") is None  # 38 characters, 72 bytes
    problem = length.problem("Aa1!" + "é" * 35, "", "")  # 39 characters, 74 bytes
    assert "too long" in problem and "72 bytes" in problem
    assert "72 bytes" in length.problem("密" * 25, "", "")  # 25 characters, 75 bytes
    with pytest.raises(InvalidInput, match="72 bytes"):
        password_policy.check("Aa1!-" + "€" * 30)


@pytest.mark.parametrize("password", [
    "password", "PASSWORD", "Password123!", "!!Qwerty2026??", "123456789012", "  letmein  ",
    "Summer2026!", "P@ssw0rd", "ResultsDesk-2026",
])
def test_common_passwords_are_caught_without_case_or_edge_digits_and_symbols(password):
    assert password_policy.NotCommon().problem(password, "", "") is not None


@pytest.mark.parametrize("password", [
    "Demo-Password-1!", "my password is long", "Summer-At-The-Lake-9", "password-plus-more",
])
def test_passphrases_that_merely_contain_a_common_word_are_not_common(password):
    assert password_policy.NotCommon().problem(password, "", "") is None


def test_personal_information_checks_email_local_part_whole_email_and_name_words():
    rule = password_policy.NotPersonal()
    email, name = "Jo.Banks@Lakeside.example", "Dr. Ann Ng-Lakehurst"
    assert rule.problem("xx-JO.BANKS-2026!", email, name)  # the local part, any case
    assert rule.problem("jo.banks@lakeside.example1!", email, name)  # the whole email
    assert rule.problem("Sunny-ANN-Meadow-7", email, name)  # a word of the name
    assert rule.problem("Sunny-lakehurst-7", email, name)
    # Words shorter than three letters are too ordinary to refuse ("Dr", "Ng").
    assert rule.problem("Dr-Ng-Harbor-Lights-7", email, name) is None
    assert rule.problem("Ab1!ab1!ab1!", "ab@x.example", "") is None  # local part of two letters
    assert rule.problem("Harbor-Lights-2026", "", "") is None  # nothing known about the person


def test_help_text_lines_correspond_one_to_one_to_the_rules(monkeypatch):
    for policy in password_policy.POLICIES:
        monkeypatch.setenv("RESULTSDESK_PASSWORD_POLICY", policy)
        active = password_policy.rules()
        assert password_policy.help_text() == [rule.help for rule in active]
        assert len(set(password_policy.help_text())) == len(active)


def test_rules_can_be_asked_for_a_named_policy_and_refuse_unknown_ones():
    assert [type(rule).__name__ for rule in password_policy.rules("length")] == [
        "Length", "NotPersonal", "NotCommon"]
    assert password_policy.rules("length")[0] == password_policy.Length(15, 64)
    assert password_policy.rules("composition")[0] == password_policy.Length(12, 64)
    with pytest.raises(ValueError):
        password_policy.rules("strict")


def test_length_only_policy_still_refuses_personal_common_and_too_long(monkeypatch):
    monkeypatch.setenv("RESULTSDESK_PASSWORD_POLICY", "length")
    assert password_policy.problems("fifteen letters") == []  # 15, no composition at all
    assert password_policy.problems("password1234567!") != []  # common stem
    assert password_policy.problems("all about fran here", name="Fran First") != []
    assert any("72 bytes" in p for p in password_policy.problems("密" * 25))
    assert not any("uppercase" in p for p in password_policy.problems("x"))


def test_the_shipped_list_is_lower_case_with_a_comment_header():
    lines = (password_policy._COMMON_FILE).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#")
    entries = [line for line in lines if line and not line.startswith("#")]
    assert all(entry == entry.lower() == entry.strip() for entry in entries)
    assert len(entries) == len(set(entries))
