"""Archive reports past the retention period, and remove download links a day past expiry:
`make archive`, daily."""

from __future__ import annotations

from db.migrate import open_database
from services.reports import bundle_links
from services.reports.retention import RETENTION_PERIOD, archive_expired


def main() -> None:
    db = open_database()
    archived = archive_expired(db)
    print(f"Archived {archived:,} report(s) delivered more than {RETENTION_PERIOD.days} days ago.")
    swept = bundle_links.sweep_expired(db)
    print(f"Removed {swept:,} expired download link(s).")


if __name__ == "__main__":
    main()
