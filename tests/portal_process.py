"""A ResultsDesk server as an operator starts one: `streamlit run portal.py` on a free port.

The browser tests and the load benchmark both drive real servers started this way.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from db.engine import PROJECT_ROOT


class PortalDidNotStart(RuntimeError):
    """The process died or never answered its health check; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, what: str,
                       tls: ssl.SSLContext | None = None, seconds: float = 60) -> None:
    """Wait for `url` to answer 200; kill the process if it dies or stalls, and say why."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=tls) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise PortalDidNotStart(f"{what} did not start:\n"
                                    + log.read_text(errors="replace")[-3000:])
        time.sleep(0.3)


class PortalProcess:
    """One server on a fixed port with the given environment; it can be stopped and started again.

    `options` are Streamlit settings for this process only (`{"runner.postScriptGC": "true"}`).
    """

    def __init__(self, env: dict[str, str], log: Path, options: dict[str, str] | None = None) -> None:
        # The jobs would change what a test or a benchmark measures; the ones about them turn
        # them on.
        self.env, self.log, self.port = {"RESULTSDESK_INLINE_JOBS": "0", **env}, log, free_port()
        self.options = [part for name, value in (options or {}).items()
                        for part in (f"--{name}", value)]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "portal.py", "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(self.port), *self.options],
                cwd=PROJECT_ROOT, env={**self.env, "PYTHONUNBUFFERED": "1"}, stdout=log,
                stderr=subprocess.STDOUT)
        wait_until_healthy(f"{self.url}/_stcore/health", self.process, self.log, "the portal")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
