"""Queue access review reminders (7 days and 1 day before each due date):
`make access-review-reminders`, e.g. hourly."""

from __future__ import annotations

from db.migrate import open_database
from services.privacy.access_review_reminders import send_reminders


def main() -> None:
    run = send_reminders(open_database())
    print(f"Sent {run.reminders} access review reminder(s): queued {run.emails} email(s). "
          "Deliver them with: make send-mail")


if __name__ == "__main__":
    main()
