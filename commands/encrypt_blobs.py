"""Seal the clear report files stored before encryption at rest: `make encrypt-blobs`, once.

Safe on a live portal, safe to stop and run again (a sealed file is skipped). Until it has run,
a clear PDF is still served when its SHA-256 matches its name; a clear preview picture is not
shown (it cannot prove whose it is) and comes back once sealed.
"""

from __future__ import annotations

from commands import report_file_walk
from services.reports import report_files


def main() -> None:
    report_file_walk.run(
        report_files.encrypt_clear, doing="Sealing clear report files", done="sealed",
        summary=lambda w: f"Sealed {w.changed:,} clear file(s); {w.already:,} were sealed already.",
        failed="clear file(s) are not what their names say and were left as they are (move "
               "them out of the store and ask the clinic to post them again)")


if __name__ == "__main__":
    main()
