"""Remove stored PDFs (and their pictures) that no report names: `make sweep-blobs`, daily."""

from __future__ import annotations

from db.migrate import open_database
from services.reports import report_files
from services.reports.blob_sweep import sweep


def main() -> None:
    removed = sweep(open_database(), report_files.store())
    print(f"Removed {removed} PDF file(s) that no report names.")


if __name__ == "__main__":
    main()
