"""A real ResultsDesk server on a free port, with the demo data, driven by Debian's Chromium.

Without Chromium the browser tests are skipped with the reason, unless REQUIRE_BROWSER=1
(CI sets it), which makes the missing browser a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from db.blob_store import BlobStore
from db.engine import Database
from db.migrate import upgrade
from services import demo_seed

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        reason = "Chromium not installed (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(f"{reason}; REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_portal(folder: Path, settings: dict[str, str]):
    """Start `streamlit run app.py` against a freshly seeded SQLite database; yields its details."""
    env = {**os.environ, **settings, "DATABASE_URL": f"sqlite:///{folder / 'portal.db'}",
           "RESULTSDESK_BLOB_DIR": str(folder / "blobs"), "PYTHONUNBUFFERED": "1"}
    db = Database(env["DATABASE_URL"])
    upgrade(db)
    demo_seed.seed(db, blob_store=BlobStore(folder / "blobs"), reports=40, patients=20)
    db.dispose()
    port = _free_port()
    log = open(folder / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("the portal did not start:\n" + (folder / "server.log").read_text()[-3000:])
        time.sleep(0.3)
    yield {"url": url, "chromium": _chromium(), "database_url": env["DATABASE_URL"]}
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def portal(tmp_path_factory):
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("portal"), {})


@pytest.fixture(scope="session")
def short_idle_portal(tmp_path_factory):
    """A portal whose sessions end after 6 idle seconds, to watch an unattended screen blank."""
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("short-idle"), {"RESULTSDESK_SESSION_IDLE_MINUTES": "0.1"})


@pytest.fixture(scope="session")
def browser(portal):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=portal["chromium"], args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context()
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()
