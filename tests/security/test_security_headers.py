"""The app's security headers and the proxy's are one table; the cookie routes redirect only home."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pages.common import security_headers
from pages.common.session_routes import same_site_path

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def _nginx_directives(name: str) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in NGINX_CONF.read_text().splitlines()]
    return [line.removeprefix(name).strip().rstrip(";") for line in lines if line.startswith(name + " ")]


def test_nginx_sets_exactly_the_apps_headers_and_hides_the_apps_copies():
    added = {}
    for directive in _nginx_directives("add_header"):
        match = re.fullmatch(r'(\S+)\s+(?:"([^"]*)"|(\S+))\s+always', directive)
        assert match, directive
        added[match[1]] = match[2] if match[2] is not None else match[3]
    assert added == security_headers.HEADERS
    assert set(_nginx_directives("proxy_hide_header")) == set(security_headers.HEADERS)


def test_the_policy_allows_no_framing_and_no_blob_scripts():
    policy = dict(part.strip().split(" ", 1) for part in security_headers.CONTENT_SECURITY_POLICY.split(";"))
    assert policy["frame-ancestors"] == "'none'"
    assert "blob:" not in policy["script-src"]


@pytest.mark.parametrize("asked, sent", [
    ("/reports?report=7", "/reports?report=7"),
    ("/", "/"),
    ("", "/"),
    ("https://evil.test/", "/"),
    ("//evil.test/x", "/"),
    ("/\\evil.test", "/"),
    ("javascript:alert(1)", "/"),
    ("/x\r\nSet-Cookie: a=b", "/"),
])
def test_after_the_hand_off_the_browser_goes_only_to_a_path_here(asked, sent):
    assert same_site_path(asked) == sent
