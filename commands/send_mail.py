"""Deliver the outbox's due emails: `make send-mail`, from cron or a timer."""

from __future__ import annotations

import sys

from db.migrate import open_database
from services import settings
from services.mail.outbox import check_mail_from, mail_from, send_due, transport_from_settings


def main() -> int:
    try:
        transport = transport_from_settings(settings.current())
        check_mail_from(mail_from())
    except ValueError as error:
        print(f"Outbox not sent: {error}", file=sys.stderr)
        return 1
    db = open_database()
    try:
        summary = send_due(db, transport=transport)
    finally:
        db.dispose()
    print(f"Outbox via {transport!r}: {summary.sent} sent, {summary.retried} to retry, "
          f"{summary.failed} failed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
