"""Remove stored PDFs (and their pictures) that no report names: `make sweep-blobs`, daily."""

from __future__ import annotations

from db.blob_store import BlobStore
from db.migrate import open_database
from services import settings
from services.reports.blob_sweep import sweep


def main() -> None:
    removed = sweep(open_database(), BlobStore(settings.current().blob_dir))
    print(f"Removed {removed} PDF file(s) that no report names.")


if __name__ == "__main__":
    main()
