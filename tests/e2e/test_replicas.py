"""Two replicas behind nginx (deploy/nginx.conf) on one PostgreSQL database and one blob folder.

A session outlives the replica that served it, and a sign-out on one replica ends it on the
other. The proxy, its failover and its headers are the shipped template, filled in.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from pages.common.session_cookie import COOKIE_NAME
from tests.conftest import _skip_or_fail, postgres_test_url
from tests.e2e.conftest import (
    ROOT,
    browser_test_program,
    employer_reports,
    seed_demo,
    sign_in,
)
from tests.portal_process import PortalProcess, free_port, wait_until_healthy

pytestmark = pytest.mark.browser

SIGN_IN = "Sign in to ResultsDesk"
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(autouse=True)
def programs() -> dict[str, str]:
    """nginx and openssl, looked for first so that a missing one wastes no database or server."""
    return {"nginx": browser_test_program("nginx", package="nginx"),
            "openssl": browser_test_program("openssl", package="openssl")}


@pytest.fixture
def replica_database():
    """A scratch database beside the tests' own, never that one: other tests use it."""
    shared = postgres_test_url()
    scratch = shared.set(database=f"{shared.database}_replicas")
    admin = create_engine(shared.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    except Exception as error:  # any connection problem means "no PostgreSQL here"
        admin.dispose()
        _skip_or_fail("REQUIRE_POSTGRES",
                      f"PostgreSQL not reachable at {shared.render_as_string()}: {error.__class__.__name__}")
    yield scratch.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def replicas(replica_database, tmp_path):
    blobs = tmp_path / "blobs"
    seed_demo(replica_database, blobs)
    env = {**os.environ, "DATABASE_URL": replica_database, "RESULTSDESK_BLOB_DIR": str(blobs)}
    servers = [PortalProcess(env, tmp_path / f"replica-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def _fill_in(template: str, replicas: list[str], values: dict[str, str]) -> str:
    """The template with its placeholders filled; the replica line is repeated per replica."""
    lines = []
    for line in template.splitlines():
        if "${RESULTSDESK_REPLICA}" in line:
            lines += [line.replace("${RESULTSDESK_REPLICA}", replica) for replica in replicas]
        else:
            lines.append(line)
    filled = "\n".join(lines)
    for name, value in values.items():
        filled = filled.replace(f"${{{name}}}", value)
    assert "${RESULTSDESK_" not in filled, "a placeholder of deploy/nginx.conf is not filled in"
    return filled


def _self_signed_certificate(run: Path, openssl: str) -> tuple[Path, Path]:
    certificate, key = run / "tls.pem", run / "tls.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    return certificate, key


def _write_nginx_conf(run: Path, port: int, replicas: list[PortalProcess], openssl: str) -> Path:
    certificate, key = _self_signed_certificate(run, openssl)
    site = _fill_in((ROOT / "deploy" / "nginx.conf").read_text(),
                    [server.url.removeprefix("http://") for server in replicas],
                    {"RESULTSDESK_LISTEN": f"127.0.0.1:{port}", "RESULTSDESK_TLS_CERT": str(certificate),
                     "RESULTSDESK_TLS_KEY": str(key), "RESULTSDESK_ACCESS_LOG": str(run / "access.log")})
    (run / "resultsdesk.conf").write_text(site)
    # What Debian's /etc/nginx/nginx.conf does around the site, with every writable path in `run`.
    temp_paths = "".join(f"    {kind}_temp_path {run / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, workers would run as nobody, who cannot enter pytest's private temp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = run / "nginx.conf"
    conf.write_text(f"{user}worker_processes 1;\nevents {{ worker_connections 256; }}\n"
                    f"http {{\n{temp_paths}    include {run / 'resultsdesk.conf'};\n}}\n")
    return conf


@pytest.fixture
def proxy(programs, replicas, tmp_path):
    """nginx in the foreground with deploy/nginx.conf in front of both replicas, on HTTPS."""
    run = tmp_path / "nginx"
    run.mkdir()
    port = free_port()
    conf, log = _write_nginx_conf(run, port, replicas, programs["openssl"]), run / "error.log"
    with open(log, "ab") as early_errors:  # what nginx says before it reads error_log
        process = subprocess.Popen(
            [programs["nginx"], "-p", str(run), "-c", str(conf),
             "-g", f"daemon off; pid {run / 'nginx.pid'}; error_log {log};"],
            stdout=early_errors, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        own_certificate = ssl.create_default_context(cafile=run / "tls.pem")
        wait_until_healthy(f"{url}/_stcore/health", process, log, "nginx", tls=own_certificate)
        yield {"url": url, "access_log": run / "access.log", "error_log": log}
    finally:
        process.terminate()
        process.wait(timeout=10)


def _upstreams(access_log: Path, request: str = "") -> list[str]:
    """The replica addresses nginx names for each logged request (that starts so), in order."""
    lines = access_log.read_text().splitlines() if access_log.exists() else []
    return [re.search(r'upstream="([^"]*)"', line)[1] for line in lines if f'"{request}' in line]


def _expect_signed_in(page: Page) -> None:
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_session_outlives_its_replica_and_a_sign_out_reaches_every_replica(replicas, proxy, browser):
    context = browser.new_context(ignore_https_errors=True)  # the test's own self-signed certificate
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        response = page.goto(proxy["url"])
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, name
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

        sign_in(page, proxy["url"], "privacy@demo.test")
        _expect_signed_in(page)  # the WebSocket runs through the proxy, under its CSP
        [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        assert cookie["secure"] and cookie["httpOnly"]
        addresses = {server.url.removeprefix("http://"): server for server in replicas}
        served = set(_upstreams(proxy["access_log"]))
        assert len(served) == 1 and served <= addresses.keys(), served  # sticky: one replica so far
        serving_address = served.pop()
        serving = addresses[serving_address]
        [(other_address, other)] = [(a, server) for a, server in addresses.items() if server is not serving]

        # The replica that served the session goes away: the next page load fails over.
        serving.stop()
        page.reload()
        _expect_signed_in(page)
        # Answered by the other replica, perhaps after nginx tried the one that was down first
        # (logged "down, other"; the page's health poll may have been that try instead).
        assert _upstreams(proxy["access_log"], "GET / ")[-1].split(", ")[-1] == other_address
        assert f'upstream: "http://{serving_address}/' in proxy["error_log"].read_text()

        # Restarted, the replica has nothing in memory: only the database can sign this browser in.
        serving.start()
        page.goto(serving.url)
        _expect_signed_in(page)

        # Sign out on the other replica; the restarted one, and the proxy, then refuse the cookie.
        page.goto(other.url)
        _expect_signed_in(page)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You have signed out.")).to_be_visible()
        context.add_cookies([cookie])  # as if the browser had kept it
        page.goto(serving.url)
        expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
        expect(page.get_by_role("heading", name="Welcome", exact=True)).to_have_count(0)
        page.goto(proxy["url"])
        expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    finally:
        context.close()


def test_through_the_proxy_a_report_shows_its_first_page_and_downloads(replica_database, replicas,
                                                                      proxy, browser):
    """The preview image and the PDF download are served by the page's replica under the CSP."""
    newest = employer_reports(replica_database)[0]
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        sign_in(page, proxy["url"], "employer@demo.test")
        _expect_signed_in(page)
        page.goto(f"{proxy['url']}/reports?report={newest.id}")
        expect(page.get_by_role("heading",
                                name=f"{newest.type_label}, {newest.service_date:%Y-%m-%d}")).to_be_visible()
        picture = page.get_by_test_id("stImage").locator("img")
        expect(picture).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                               arg=picture.element_handle())
        with page.expect_download() as download:
            page.get_by_role("button", name="Download PDF").click()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
        assert refused == []
    finally:
        context.close()
