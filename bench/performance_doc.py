"""Writes measured sections into docs/performance.md, leaving the rest of the page as it is.

Each harness owns one section, fenced by `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`;
a run replaces only its own section, or appends it when the page has none yet.
"""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def write_section(name: str, markdown: str, page: Path = PAGE) -> None:
    """Put `markdown` into the section `name` of the page."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = page.read_text(encoding="utf-8") if page.exists() else "# Performance\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.write_text(text, encoding="utf-8")
