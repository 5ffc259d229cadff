"""Draw the first-page pictures that are missing: `make previews`.

    python -m commands.previews          # every stored file without a picture
    python -m commands.previews --demo   # the demo's own files, many per child (first start)
"""

from __future__ import annotations

import os
import sys

from db.migrate import open_database
from services.reports import report_files
from services.reports.previews import draw_missing


def main(argv: list[str] | None = None) -> None:
    store = report_files.store()
    if "--demo" in (argv if argv is not None else sys.argv[1:]):
        # Started by the first `make run` after seeding.
        from services.demo import seed

        seed.draw_previews(open_database(), store)
        return
    done = draw_missing(open_database(), store, workers=min(os.cpu_count() or 1, 4))
    print(f"Drew {done['ready']} preview(s); {done['failed']} file(s) could not be drawn "
          "(their reports show \"No preview for this report\").")


if __name__ == "__main__":
    main()
