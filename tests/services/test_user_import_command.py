"""`python -m commands.import_users` as an operator runs it: a config.yaml on disk, a database,
one line per person, and an exit status a script can trust."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit_authenticator.utilities.hasher import Hasher

from db.migrate import open_database
from db.models import Account, StaffRole, User
from services import clock
from services.identity import auth, users
from tests.conftest import PASSWORD

PROJECT = Path(__file__).resolve().parents[2]
THEIR_PASSWORD = "Sunset-Boulevard-42"
CLEAR_TEXT = "Winter-Garden-2025"


@pytest.fixture(scope="module")
def their_hash() -> str:
    return Hasher.hash(THEIR_PASSWORD)


@pytest.fixture
def portal(tmp_path):
    """A migrated SQLite database with a system admin and the client account Acme Freight."""
    url = f"sqlite:///{tmp_path / 'resultsdesk.db'}"
    db = open_database(url)
    users.create_first_admin(db, email="root@portal.example", name="Root Admin", password=PASSWORD)
    with db.transaction() as session:
        session.add(Account(name="Acme Freight", kind="employer", created_at=clock.now()))
    yield db, url
    db.dispose()


def _config(tmp_path: Path, their_hash: str, password: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"""\
cookie:
  expiry_days: 30
  key: some_signature_key
  name: some_cookie_name
credentials:
  usernames:
    jsmith:
      email: JSmith@Acme.example
      failed_login_attempts: 0
      first_name: John
      last_name: Smith
      logged_in: false
      password: {their_hash}
      roles:
      - viewer
    rbriggs:
      email: rbriggs@acme.example
      name: Rebecca Briggs
      password: {password}
      roles: [viewer]
""", encoding="utf-8")
    return path


def _run(url: str, *args: str, dry_run: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "DRY_RUN": dry_run}
    return subprocess.run([sys.executable, "-m", "commands.import_users", *args], cwd=PROJECT,
                          env=env, capture_output=True, text=True, timeout=120)


def _emails(db) -> list[str]:
    with db.transaction(write=False) as session:
        return sorted(session.scalars(select(User.email)))


def test_a_dry_run_then_the_import(portal, tmp_path, their_hash):
    db, url = portal
    config = _config(tmp_path, their_hash, their_hash)
    mapping = tmp_path / "roles.yaml"
    mapping.write_text("roles:\n  viewer:\n    account_user: Acme Freight\n", encoding="utf-8")
    args = (str(config), "--as", "root@portal.example", "--mapping", str(mapping))

    dry = _run(url, *args, dry_run="1")
    assert dry.returncode == 0, dry.stderr
    assert "(dry run: nothing is written)" in dry.stdout
    assert "  jsmith (jsmith@acme.example): would be created as Client account user: Acme Freight\n" in dry.stdout
    assert "Dry run: 2 would be created, 0 already present." in dry.stdout
    assert _emails(db) == ["root@portal.example"]

    done = _run(url, *args)
    assert done.returncode == 0, done.stderr
    assert "  jsmith (jsmith@acme.example): created as Client account user: Acme Freight\n" in done.stdout
    assert "Done: 2 created, 0 already present." in done.stdout
    assert _emails(db) == ["jsmith@acme.example", "rbriggs@acme.example", "root@portal.example"]
    auth.sign_in(db, email="jsmith@acme.example", password=THEIR_PASSWORD)

    again = _run(url, *args)
    assert again.returncode == 0
    assert "  jsmith (jsmith@acme.example): already has an account, left as it is\n" in again.stdout
    assert "Done: 0 created, 2 already present." in again.stdout


def test_a_clear_text_password_is_refused_by_name_without_showing_it(portal, tmp_path, their_hash):
    db, url = portal
    result = _run(url, str(_config(tmp_path, their_hash, CLEAR_TEXT)), "--as", "root@portal.example",
                  "--role", "viewer=account_user:Acme Freight")
    assert result.returncode == 1
    assert "  rbriggs (rbriggs@acme.example): refused: its password is not a bcrypt hash" in result.stdout
    assert "Nothing was imported: 1 of 2 people refused." in result.stdout
    assert CLEAR_TEXT not in result.stdout + result.stderr
    assert _emails(db) == ["root@portal.example"]


def test_a_mapping_problem_is_named_and_nothing_is_written(portal, tmp_path, their_hash):
    db, url = portal
    result = _run(url, str(_config(tmp_path, their_hash, their_hash)), "--as", "root@portal.example",
                  "--role", "viewer=account_user:Acme Fraight")
    assert result.returncode == 1
    assert "The role 'viewer': there is no client account 'Acme Fraight'" in result.stdout
    assert "1 problem with the file or the mapping" in result.stdout
    assert _emails(db) == ["root@portal.example"]


def test_what_cannot_be_tried_exits_2(portal, tmp_path, their_hash):
    db, url = portal
    config = _config(tmp_path, their_hash, their_hash)
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"credentials:\n  usernames:\n    a: {{password: {CLEAR_TEXT}: x\n", encoding="utf-8")
    for args, words in [((str(config), "--as", "nobody@portal.example"), "No active user nobody@portal.example"),
                        ((str(broken), "--as", "root@portal.example"), "is not valid YAML near line"),
                        ((str(tmp_path / "missing.yaml"), "--as", "root@portal.example"), "missing.yaml"),
                        ((str(config), "--as", "root@portal.example", "--role", "viewer"), "--role 'viewer'")]:
        result = _run(url, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert words in result.stderr and "Nothing was imported." in result.stderr
        assert CLEAR_TEXT not in result.stderr + result.stdout
    assert _emails(db) == ["root@portal.example"]


def test_without_as_the_only_system_admin_imports_and_with_two_it_must_be_named(portal, tmp_path,
                                                                                their_hash):
    db, url = portal
    config = _config(tmp_path, their_hash, their_hash)
    alone = _run(url, str(config), "--role", "viewer=account_user:Acme Freight", dry_run="1")
    assert alone.returncode == 0, alone.stderr
    assert "acting as root@portal.example" in alone.stdout
    with db.transaction() as session:
        second = User(email="second@portal.example", name="Second Admin", password_hash=None,
                      status="active", created_at=clock.now())
        session.add(second)
        session.flush()
        session.add(StaffRole(user_id=second.id, role="system_admin"))
    two = _run(url, str(config), "--role", "viewer=account_user:Acme Freight", dry_run="1")
    assert two.returncode == 2
    assert "Name the portal user who imports" in two.stderr and "Nothing was imported." in two.stderr
