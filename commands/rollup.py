"""Rebuild the Dashboard's report-volume rollup from the report rows: `make rollup`, for repair."""

from __future__ import annotations

from db.migrate import open_database
from services.insight.report_volume import rebuild


def main() -> None:
    rows = rebuild(open_database())
    print(f"Rebuilt the report-volume rollup: {rows:,} row(s).")


if __name__ == "__main__":
    main()
