"""Fill an empty database with the demo data set and print the demo logins: `make seed`."""

from __future__ import annotations

from db.migrate import open_database
from services.demo.seed import describe_logins, seed_if_empty


def main() -> None:
    db = open_database()
    try:
        seed_if_empty(db)
        print(describe_logins())
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
