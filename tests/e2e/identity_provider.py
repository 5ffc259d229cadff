"""A real OpenID provider on localhost (npm oidc-provider, pinned in tests/e2e/oidc) and a portal
configured to use it for staff sign-in, as an operator configures one in secrets.toml.

Without node, or with the package never installed (make test installs it with npm ci), the
staff sign-in browser tests skip with the reason, unless REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from tests.conftest import _skip_or_fail
from tests.portal_process import PortalProcess, free_port, wait_until_healthy

OIDC_FOLDER = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_FOLDER / "provider.js"
PROVIDER_PACKAGE = OIDC_FOLDER / "node_modules" / "oidc-provider" / "package.json"
CLIENT_ID = "resultsdesk-tests"  # as tests/e2e/oidc/provider.js registers it
# The provider's people (tests/e2e/oidc/provider.js): its usernames, one password for all.
PROVIDER_PASSWORD = "Provider-Password-1!"
STAFF = "sam.sutton"                 # support@demo.test, email verified: a support rep
UNVERIFIED = "priya.prakash"         # privacy@demo.test, but the provider has not verified it
STRANGER = "stranger"                # stranger@elsewhere.test, verified, unknown to the portal
CLIENT_USER = "erin.ellis"           # employer@demo.test, verified, a portal user without a staff role


def require_node() -> str:
    """The node program, with oidc-provider installed beside the script; skip or fail without."""
    node = shutil.which("node")
    if node is None or not PROVIDER_PACKAGE.is_file():
        reason = ("node/npm not installed (apt-get install -y nodejs npm)" if node is None or not shutil.which("npm")
                  else "oidc-provider is not installed") + \
            f": run `npm ci --no-audit --no-fund` in {OIDC_FOLDER} (make test does)"
        _skip_or_fail("REQUIRE_BROWSER", reason)
    return node


class IdentityProvider:
    """oidc-provider on a free port of 127.0.0.1, knowing one client whose redirect URI is given."""

    def __init__(self, redirect_uri: str, log: Path) -> None:
        self.node, self.redirect_uri, self.log = require_node(), redirect_uri, log
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_secret = secrets.token_urlsafe(24)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "OIDC_PORT": str(self.port), "OIDC_REDIRECT_URI": self.redirect_uri,
               "OIDC_CLIENT_SECRET": self.client_secret}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([self.node, str(PROVIDER_SCRIPT)], cwd=OIDC_FOLDER, env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_until_healthy(f"{self.issuer}/.well-known/openid-configuration", self.process, self.log,
                           "the identity provider", seconds=30)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def secrets_toml(self) -> str:
        """Streamlit's [auth] section for this provider, as docs/operations.md shows it."""
        return "\n".join([
            "[auth]",
            f'redirect_uri = "{self.redirect_uri}"',
            f'cookie_secret = "{secrets.token_urlsafe(32)}"',
            f'client_id = "{CLIENT_ID}"',
            f'client_secret = "{self.client_secret}"',
            f'server_metadata_url = "{self.issuer}/.well-known/openid-configuration"',
            # oidc-provider knows no prompt=select_account (Streamlit's default): ask it to show
            # its sign-in page every time instead.
            'client_kwargs = { prompt = "login" }',
            "",
        ])


def start_portal_with_provider(folder: Path, database_url: str, settings: dict[str, str]):
    """A portal on a free port whose secrets name a fresh identity provider; yields both."""
    server = PortalProcess({**os.environ, **settings, "DATABASE_URL": database_url,
                            "RESULTSDESK_BLOB_DIR": str(folder / "blobs")}, folder / "server.log")
    provider = IdentityProvider(f"{server.url}/oauth2callback", folder / "provider.log")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(provider.secrets_toml())
    server.options += ["--secrets.files", str(secrets_file)]
    provider.start()
    try:
        server.start()
        try:
            yield server, provider
        finally:
            server.stop()
    finally:
        provider.stop()
