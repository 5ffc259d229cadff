"""docs/roles.md shows the matrix the services enforce, not an older copy of it."""

from pathlib import Path

from services import policy


def test_roles_page_matches_the_policy_table():
    document = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text(encoding="utf-8")
    assert policy.matrix_markdown() in document
