"""Seal the clear report files stored before encryption at rest: `make encrypt-blobs`, once.

Safe on a live portal, safe to stop and run again (a sealed file is skipped). Until it has run,
a clear PDF is still served when its SHA-256 matches its name; a clear preview picture is not
shown (it cannot prove whose it is) and comes back once sealed.
"""

from __future__ import annotations

import sys

from db.migrate import open_database
from services.reports import report_files


def main() -> None:
    store = report_files.store()
    print(f"Sealing clear report files in {store.root} with {store.keyring.describe()}...")
    walked = report_files.encrypt_clear(open_database(), store, progress=lambda w: print(
        f"  {w.changed + w.already:,} files looked at, {w.changed:,} sealed", flush=True))
    print(f"Sealed {walked.changed:,} clear file(s); {walked.already:,} were sealed already.")
    if walked.failed:
        print(f"{len(walked.failed)} clear file(s) are not what their names say and were left "
              "as they are (move them out of the store and ask the clinic to post them again):",
              file=sys.stderr)
        for line in walked.failed[:50]:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
