"""Queue the new-result emails: `make notices`, e.g. hourly."""

from __future__ import annotations

from db.migrate import open_database
from services.reports.notices import send


def main() -> None:
    run = send(open_database())
    print(f"Checked {run.users_checked} user(s) with notices on; queued {run.emails_queued} email(s). "
          "Deliver them with: make send-mail")


if __name__ == "__main__":
    main()
