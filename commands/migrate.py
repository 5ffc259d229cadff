"""Bring the database to the newest schema: `make migrate` (every start does it too)."""

from __future__ import annotations

from db.migrate import open_database


def main() -> None:
    open_database().dispose()
    print("Database is at the newest schema.")


if __name__ == "__main__":
    main()
