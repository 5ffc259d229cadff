"""docs/architecture.md's "Where each rule lives" table names real places: each module exists
and defines each name listed for it, so the table cannot drift from the code unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _rows() -> list[tuple[str, str, list[str]]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`"):
            continue
        rows.append((cells[0], cells[1].strip("`"), re.findall(r"`([A-Za-z_]\w*)`", cells[2])))
    return rows


def _defines(source: str, name: str) -> bool:
    """A module-level constant, function or class, or a field of a dataclass."""
    return bool(re.search(rf"^(?:{name}\s*(?::[^=\n]+)?=|def {name}\(|class {name}\b|    {name}: )",
                          source, re.MULTILINE))


def test_the_table_lists_the_rules_people_are_told():
    rules = " ".join(rule.lower() for rule, _, _ in _rows())
    for rule in ("role", "retention", "breach", "password policy", "lockout", "routing",
                 "bulk-download", "upload"):
        assert rule in rules, rule


@pytest.mark.parametrize("rule, module, names", _rows(), ids=lambda value: str(value)[:40])
def test_each_listed_module_defines_each_listed_name(rule, module, names):
    path = ROOT / module
    assert path.is_file(), f"{module} (for {rule}) does not exist"
    source = path.read_text(encoding="utf-8")
    assert names, f"no names listed for {rule}"
    missing = [name for name in names if not _defines(source, name)]
    assert not missing, f"{module} does not define {missing} ({rule})"
