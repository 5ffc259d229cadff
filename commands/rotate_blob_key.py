"""Re-wrap every report file's data key with the current master key: `make rotate-blob-key`.

Run it after setting the new key as current and the old one as readable (docs/operations.md);
safe to stop at any point and run again, on a live portal. When it reports nothing left, the old
key can be removed from the configuration.
"""

from __future__ import annotations

import sys

from db.migrate import open_database
from services.reports import report_files


def main() -> None:
    store = report_files.store()
    print(f"Re-wrapping report files in {store.root} with {store.keyring.describe()}...")
    walked = report_files.rotate(open_database(), store, progress=lambda w: print(
        f"  {w.changed + w.already:,} files looked at, {w.changed:,} re-wrapped", flush=True))
    print(f"Re-wrapped {walked.changed:,} file(s); {walked.already:,} already had the current key.")
    if walked.failed:
        print(f"{len(walked.failed)} file(s) could not be re-wrapped (run again once their key "
              "is configured, or see docs/operations.md):", file=sys.stderr)
        for line in walked.failed[:50]:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1)
    print("Every file now uses the current key: the older keys can be removed from the configuration.")


if __name__ == "__main__":
    main()
