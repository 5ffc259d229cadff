"""One real portal server for the load benchmark: started, watched for memory, stopped.

It is started the way an operator starts a replica (`streamlit run portal.py`, the same process the
browser tests start), so what is measured includes uvicorn, the websocket handling and the
script runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.portal_process import PortalDidNotStart, PortalProcess


class PortalServer(PortalProcess):
    def __init__(self, *, database_url: str, blob_dir: Path, log: Path,
                 options: dict[str, str] | None = None) -> None:
        env = {**os.environ, "DATABASE_URL": database_url, "RESULTSDESK_BLOB_DIR": str(blob_dir),
               "RESULTSDESK_DEMO": "0"}
        super().__init__(env, log, options)
        try:
            self.start()
        except PortalDidNotStart as error:
            raise SystemExit(str(error)) from None

    def rss_mb(self) -> float:
        """Resident memory of the server process (VmRSS), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
