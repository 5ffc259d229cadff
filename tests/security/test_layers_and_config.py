"""Layering and deployment settings an attacker would probe: services and db never load
Streamlit, pages never build SQL, and the shipped Streamlit config keeps its secure defaults."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").rglob("*.py")])

IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
imported = []
for package_name in ("services", "db"):
    package = importlib.import_module(package_name)
    imported.append(package_name)
    for module in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
        importlib.import_module(module.name)
        imported.append(module.name)
loaded = sorted(name for name in sys.modules if name == "streamlit" or name.startswith("streamlit."))
print(len(imported))
assert not loaded, f"Streamlit was imported by services/db: {loaded[:5]}"
"""


def test_services_and_db_import_without_streamlit():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = {p for p in (ROOT / "services").glob("*.py")} | {p for p in (ROOT / "db").rglob("*.py")
                                                                if (p.parent / "__init__.py").exists()}
    # Every module file in the two packages was imported (a silent walk would prove nothing).
    assert int(done.stdout.strip().splitlines()[-1]) == len(expected)


def test_the_ui_files_are_found():
    assert ROOT / "app.py" in UI_FILES and len(UI_FILES) > 3


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_do_not_build_sql(path):
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+sqlalchemy\b", source, re.MULTILINE)
    assert not re.search(r"\bselect\(", source)
    assert "session.execute(" not in source


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_render_no_raw_html_and_no_internet_icons(path):
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"unsafe_allow_html\s*=\s*True", source)
    assert ":material/" not in source


@pytest.fixture(scope="module")
def streamlit_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_streamlit_config_keeps_secure_defaults(streamlit_config):
    server, client, browser = (streamlit_config.get(k, {}) for k in ("server", "client", "browser"))
    assert server.get("enableXsrfProtection") is True
    assert client.get("showErrorDetails") in ("none", False)
    assert browser.get("gatherUsageStats") is False
    assert isinstance(server.get("maxUploadSize"), int) and 0 < server["maxUploadSize"] <= 200
    assert client.get("toolbarMode") == "viewer"


def test_secrets_and_local_data_are_git_ignored():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert ".streamlit/secrets.toml" in ignored or "secrets.toml" in ignored
    assert "var" in ignored


def test_git_agrees_that_secrets_and_var_are_ignored():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", ".streamlit/secrets.toml", "var/resultsdesk.db"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == [".streamlit/secrets.toml", "var/resultsdesk.db"]
