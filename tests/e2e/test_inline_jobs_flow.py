"""A try-out portal sends its own emails: a reset asked for in the browser arrives as a message
within seconds, without running `make send-mail`, and its link names the port the portal serves."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _chromium, _start_portal

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def try_out_portal(tmp_path_factory):
    _chromium()
    folder = tmp_path_factory.mktemp("inline-jobs")
    settings = {"RESULTSDESK_INLINE_JOBS": "1", "RESULTSDESK_OUTBOX_DIR": str(folder / "outbox"),
                "SMTP_URL": "", "RESULTSDESK_PORTAL_URL": ""}
    for portal in _start_portal(folder, settings):
        yield {**portal, "outbox": folder / "outbox"}


def _messages(outbox: Path, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(outbox.glob("*-password_reset.eml")) if outbox.exists() else []
        if found:
            return [path.read_text(encoding="utf-8") for path in found]
        time.sleep(0.5)
    return []


def test_a_reset_link_arrives_by_itself_and_names_the_served_port(try_out_portal, context):
    page: Page = context.new_page()
    page.goto(try_out_portal["url"])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Forgot password").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_role("textbox", name="Email address (your user ID)").fill("employer@demo.test")
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_test_id("stAlert")).to_contain_text("reset")
    messages = _messages(try_out_portal["outbox"], seconds=30)
    assert len(messages) == 1, "the in-process sender did not deliver the reset email"
    port = try_out_portal["url"].rsplit(":", 1)[1]
    assert f"http://localhost:{port}/reset-password?token=" in messages[0].replace("=\n", "")
