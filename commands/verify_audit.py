"""Check the audit trail's hash chain; exit status 1 when it is broken.

    python -m commands.verify_audit
"""

from __future__ import annotations

import sys

from db.migrate import open_database
from services.privacy.audit_chain import verify


def main() -> int:
    result = verify(open_database())
    if result.intact:
        print(f"Audit chain intact: {result.checked:,} events checked"
              + (f" ({result.before_chain:,} older events carry no hash)." if result.before_chain else "."))
        return 0
    print(f"Audit chain broken at event {result.first_bad_id} "
          f"(after {result.checked:,} good events).", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
