"""AppTest fixtures: the real app.py against a small copy of the demo data on SQLite."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from db.blob_store import BlobStore
from db.engine import Database
from db.migrate import upgrade
from pages.common import runtime
from services.demo import seed

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DEMO_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    db = Database(f"sqlite:///{folder / 'demo.db'}")
    upgrade(db)
    seed.seed(db, blob_store=BlobStore(folder / "blobs"), reports=60, patients=30, now=DEMO_NOW)
    db.dispose()
    return folder / "demo.db"


@pytest.fixture
def demo_db(demo_template, tmp_path, monkeypatch) -> Database:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RESULTSDESK_BLOB_DIR", str(demo_template.parent / "blobs"))
    runtime._database.clear()  # cache_resource outlives an AppTest: start each test afresh
    yield Database(url)
    runtime._database.clear()


@pytest.fixture
def app(demo_db) -> AppTest:
    return AppTest.from_file(APP, default_timeout=30).run()


def sign_in(at: AppTest, email: str, password: str = seed.DEMO_PASSWORD) -> AppTest:
    at.text_input(key="sign_in_email").input(email)
    at.text_input(key="sign_in_password").input(password)
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    # A successful sign-in first shows the browser its cookie hand-off (a form AppTest cannot
    # post); the tab itself is already signed in, as the next run shows.
    return at.run()


def screens(at: AppTest) -> set[str]:
    """The url paths st.navigation registered in the last run ('' is the default page).

    AppTest exposes the navigation only through this attribute in Streamlit 1.67.
    """
    return {info["url_pathname"] for info in at._registered_pages.values()}


def open_screen(at: AppTest, url_path: str) -> AppTest:
    """Ask for a screen by its URL path, as a browser address bar would."""
    at._page_hash = calc_hash(url_path)
    return at.run()


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.fixture
def fake_clock_app(fake_clock):
    """The shared fake clock, started at the demo data's 'now' so the demo sessions line up."""
    fake_clock.current = DEMO_NOW
    return fake_clock


def literal_texts(at: AppTest) -> list[str]:
    """The bodies of the st.html elements: where names and emails are shown, escaped."""
    return [element.proto.body for element in at.get("html")]


def sign_out(at: AppTest) -> AppTest:
    """What the sidebar's Sign out form does, for a tab AppTest drives.

    In a browser the form posts to /auth/sign-out, which ends the session, and the page then
    loads as a brand-new Streamlit session. Here the session ends the same way and the tab's
    next run finds it ended, which empties the tab's state as every ended session does.
    """
    from services.identity import sessions

    sessions.end(runtime.database(), at.session_state[runtime.TOKEN_KEY])
    at.query_params["notice"] = "signed-out"
    return at.run()
