"""Re-wrap every report file's data key with the current master key: `make rotate-blob-key`.

Run it after setting the new key as current and the old one as readable (docs/operations.md);
safe to stop at any point and run again, on a live portal. When it reports nothing left, the old
key can be removed from the configuration.
"""

from __future__ import annotations

from commands import report_file_walk
from services.reports import report_files


def main() -> None:
    report_file_walk.run(
        report_files.rotate, doing="Re-wrapping report files", done="re-wrapped",
        summary=lambda w: f"Re-wrapped {w.changed:,} file(s); {w.already:,} already had the current key.",
        failed="file(s) could not be re-wrapped (run again once their key is configured, or see "
               "docs/operations.md)")
    print("Every file now uses the current key: the older keys can be removed from the configuration.")


if __name__ == "__main__":
    main()
