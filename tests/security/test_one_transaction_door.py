"""Every unit of work outside the database layer opens through services.transaction, so a
refused action is rolled back and its refusal audited the same way on every screen and command;
and the two databases' spellings stay in db/, never in a service."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The door itself, and the denial it writes (which cannot go back through the door).
DOOR = {ROOT / "services" / "transaction.py", ROOT / "services" / "audit.py"}
CALLERS = sorted(path for folder in ("services", "commands", "pages")
                 for path in (ROOT / folder).rglob("*.py"))
SERVICES = sorted((ROOT / "services").rglob("*.py"))
_OPENS_ITS_OWN = re.compile(r"\.transaction\(")
_DIALECTS = re.compile(r"^\s*(from\s+sqlalchemy\.dialects\b|import\s+sqlalchemy\.dialects\b)"
                       r"|sqlalchemy\.dialects\.|\.dialect\.name\b|\.is_sqlite\b|pg_advisory",
                       re.MULTILINE)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_files_are_found():
    assert DOOR <= set(CALLERS) and len(CALLERS) > 50
    assert ROOT / "commands" / "startup.py" in CALLERS


def test_only_the_door_and_the_denial_open_a_database_transaction():
    for path in DOOR:
        assert _OPENS_ITS_OWN.search(path.read_text(encoding="utf-8")), _name(path)


@pytest.mark.parametrize("path", sorted(set(CALLERS) - DOOR), ids=_name)
def test_services_commands_and_screens_use_the_one_door(path):
    source = path.read_text(encoding="utf-8")
    found = [line.strip() for line in source.splitlines() if _OPENS_ITS_OWN.search(line)]
    assert not found, f"use services.transaction.transaction(db, ...) instead: {found}"


@pytest.mark.parametrize("path", SERVICES, ids=_name)
def test_services_leave_database_spellings_to_db(path):
    """Insert-on-conflict, locks and date arithmetic spelled per database live in db.dialect;
    a service neither imports sqlalchemy.dialects nor asks which database it runs on."""
    found = _DIALECTS.search(path.read_text(encoding="utf-8"))
    assert not found, f"use db.dialect instead: {found.group(0).strip() if found else ''}"
