"""Archive reports past the retention period: `make archive`, daily."""

from __future__ import annotations

from db.migrate import open_database
from services.reports.retention import RETENTION_PERIOD, archive_expired


def main() -> None:
    archived = archive_expired(open_database())
    print(f"Archived {archived:,} report(s) delivered more than {RETENTION_PERIOD.days} days ago.")


if __name__ == "__main__":
    main()
