"""What `make run` does before the server starts.

`python -m commands.startup` migrates, seeds the demo data into an empty database when
RESULTSDESK_DEMO is on (the default), and prints how to sign in. It refuses to go on without a
report-file key unless the demo is on, which makes one in var/blob.key (docs/operations.md).
"""

from __future__ import annotations

import os
import subprocess
import sys

from db.migrate import open_database
from services import settings
from services.identity import users
from services.insight import report_volume
from services.reports import report_files


def _draw_other_previews_in_background() -> None:
    """Start `python -m commands.previews --demo` on its own, so the server need not wait.

    It outlives this command (its own session), draws each file in a limited child like any
    run of that command, and is safe beside a scheduled run of the same command.
    """
    subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
        [sys.executable, "-m", "commands.previews", "--demo"], cwd=settings.PROJECT_ROOT,
        env=os.environ.copy(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)


def main() -> None:
    # Before anything else: a deployment without a report-file key stops here, with the reason.
    key = report_files.key_source()
    db = open_database()
    try:
        print(f"Database: {db.url.render_as_string(hide_password=True)} (schema up to date)")
        print(report_files.describe(key))
        if key.made_now and settings.current().demo:
            # A demo from before encryption at rest: its files are sealed with the new key now.
            sealed = report_files.encrypt_clear(db, report_files.store()).changed
            if sealed:
                print(f"Sealed {sealed:,} report file(s) the demo had stored in clear.")
        if report_volume.is_missing(db):  # reports from before the Dashboard's rollup existed
            print(f"Built the Dashboard's report-volume rollup: {report_volume.rebuild(db):,} rows.")
        if settings.current().demo:
            from services.demo import seed

            if seed.seed_if_empty(db):
                _draw_other_previews_in_background()
            if seed.demo_logins_exist(db):
                print(seed.describe_logins())
                required = sorted(settings.current().two_factor_roles)
                print("Two-factor sign-in: required for " + ", ".join(required) if required else
                      "Two-factor sign-in: optional in the demo (My account turns it on); "
                      "RESULTSDESK_TWO_FACTOR_ROLES=support_rep,... requires it of those roles.")
        elif not users.has_system_admin(db):
            print("No system admin yet. Create the first one with: make admin")
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
