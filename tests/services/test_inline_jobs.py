"""The in-process jobs: each runs when due, a failing one neither stops the others nor the
server, and stopping ends the thread (the server's shutdown waits for it)."""

from __future__ import annotations

import time

from commands.inline_jobs import InlineJobs, Job


class _Database:
    disposed = False

    def dispose(self) -> None:
        self.disposed = True


def test_jobs_run_when_due_survive_a_failure_and_stop():
    runs: list[str] = []

    def fails(_db):
        runs.append("fails")
        raise RuntimeError("SMTP server down")

    database = _Database()
    jobs = InlineJobs((Job("fails", 0.05, fails), Job("works", 0.05, lambda _db: runs.append("works")),
                       Job("hourly", 3600, lambda _db: runs.append("hourly"))),
                      tick_seconds=0.01, database=lambda: database)
    jobs.start()
    deadline = time.monotonic() + 5
    while runs.count("works") < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    jobs.stop()
    assert not jobs.running and database.disposed
    assert runs.count("works") >= 3 and runs.count("fails") >= 3
    assert runs.count("hourly") == 1  # due at start, then not again within the hour
