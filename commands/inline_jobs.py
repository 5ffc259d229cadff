"""The scheduled jobs, run inside the portal's own process, so a try-out behaves like a deployment.

`make run` serves through portal.py, whose lifespan starts these: emails go out (SMTP, or .eml
files in RESULTSDESK_OUTBOX_DIR) within seconds; hourly, reports archive, new-result notices
queue and dormant accounts are warned or deactivated. A deployment that schedules the commands
(docs/operations.md) sets RESULTSDESK_INLINE_JOBS=0. Every job is safe beside another copy of itself, so replicas that all
run them, or cron as well, do no harm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from db.engine import Database
from db.migrate import open_database
from services import settings
from services.identity import dormant_accounts
from services.mail import outbox
from services.privacy import access_review_reminders
from services.reports import bundle_links, notices, retention

log = logging.getLogger("resultsdesk.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Database], object]


def _send_mail(db: Database) -> object:
    return outbox.send_due(db, transport=outbox.transport_from_settings(settings.current()))


def _archive(db: Database) -> object:
    return retention.archive_expired(db), bundle_links.sweep_expired(db)


JOBS = (
    Job("send-mail", 10, _send_mail),
    Job("archive", 3600, _archive),
    Job("notices", 3600, notices.send),
    Job("access-review-reminders", 3600, access_review_reminders.send_reminders),
    Job("dormant-accounts", 3600, dormant_accounts.run),
)


class InlineJobs:
    """A daemon thread that runs each job when it is due, until stop()."""

    def __init__(self, jobs: tuple[Job, ...] = JOBS, *, tick_seconds: float = 1.0,
                 database: Callable[[], Database] = open_database) -> None:
        self.jobs, self.tick_seconds, self._database = jobs, tick_seconds, database
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="resultsdesk-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        db = self._database()
        due = {job.name: 0.0 for job in self.jobs}
        try:
            while not self._stop.is_set():
                for job in self.jobs:
                    if self._stop.is_set() or time.monotonic() < due[job.name]:
                        continue
                    try:
                        job.run(db)
                    except Exception:  # a failing job must not stop the others or the server
                        log.exception("The %s job failed; it runs again when next due.", job.name)
                    due[job.name] = time.monotonic() + job.every_seconds
                self._stop.wait(self.tick_seconds)
        finally:
            db.dispose()
