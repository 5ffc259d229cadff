"""Counts and sizes as people read them, and no "(s)" left for a reader to work out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services.wording import plural, size

ROOT = Path(__file__).resolve().parents[2]
KB, MB, GB = 1024, 1024 ** 2, 1024 ** 3


@pytest.mark.parametrize(("number", "expected"), [
    (0, "0 results"), (1, "1 report"), (2, "2 reports"), (10, "10 reports"), (1234, "1,234 reports")])
def test_a_count_takes_the_noun_that_fits(number, expected):
    noun = ("result", "results") if number == 0 else ("report", "reports")
    assert plural(number, *noun) == expected


def test_people_is_the_plural_of_person():
    assert [plural(n, "person", "people") for n in (1, 2)] == ["1 person", "2 people"]


@pytest.mark.parametrize(("number_of_bytes", "expected"), [
    (0, "0 KB"),
    (1, "1 KB"),               # a non-empty file never reads "0 KB"
    (48 * KB, "48 KB"),
    (MB // 10 - 1, "102 KB"),  # just under 0.1 MB is still kilobytes
    (MB // 10 + 1, "0.1 MB"),
    (MB, "1 MB"),              # a whole number drops its ".0"
    (int(1.2 * MB), "1.2 MB"),
    (int(12.46 * MB), "12.5 MB"),
    (150 * MB, "150 MB"),
    (GB - 1, "1 GB"),          # rounds up into the next unit, never "1,024 MB"
    (GB, "1 GB"),
    (int(2.5 * GB), "2.5 GB"),
    (2048 * GB, "2,048 GB"),
])
def test_sizes_read_in_the_unit_that_fits(number_of_bytes, expected):
    assert size(number_of_bytes) == expected


def _user_facing_strings(path: Path):
    """String literals and f-string parts, without docstrings (those are for maintainers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_screen_or_message_leaves_the_plural_to_the_reader():
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}"
             for folder in ("pages", "services") for path in sorted((ROOT / folder).rglob("*.py"))
             for line, text in _user_facing_strings(path) if "(s)" in text]
    assert found == [], "Use services.wording.plural instead of '(s)':\n" + "\n".join(found)


def test_the_scan_finds_a_count_written_with_s_in_brackets(tmp_path):
    sample = tmp_path / "screen.py"
    sample.write_text('"""A screen (s) docstring."""\nn = 2\nlabel = f"Post {n} report(s)"\n')
    assert [text for _, text in _user_facing_strings(sample) if "(s)" in text] == [" report(s)"]
