"""Layering and deployment settings an attacker would probe: the import contracts stay strict,
pages never build SQL, and the shipped Streamlit config keeps its secure defaults."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").rglob("*.py")])

IMPORT_CONTRACTS = ROOT / ".importlinter"


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(IMPORT_CONTRACTS, encoding="utf-8")
    return parser


def test_the_import_contracts_carry_no_exceptions():
    """Layers, circles and private modules are checked by lint-imports (make test); an
    ignore_imports line would quietly exempt an import from them."""
    contracts = _contracts()
    sections = [name for name in contracts.sections() if name.startswith("importlinter:contract:")]
    assert len(sections) >= 5
    assert not [name for name in sections if contracts.has_option(name, "ignore_imports")]
    assert {contracts.get(name, "type") for name in sections} >= {"layers", "acyclic_siblings",
                                                                   "forbidden", "protected"}


def test_every_private_module_of_a_domain_package_is_protected():
    protected = set()
    contracts = _contracts()
    for name in contracts.sections():
        if contracts.get(name, "type", fallback="") == "protected":
            protected |= set(contracts.get(name, "protected_modules").split())
    private = {".".join(path.relative_to(ROOT).with_suffix("").parts)
               for path in (ROOT / "services").glob("*/_*.py") if path.name != "__init__.py"}
    assert private and private <= protected, sorted(private - protected)


def test_no_screen_module_sits_directly_in_pages():
    """Streamlit's old automatic page folder runs pages/<name>.py for /<name> without app.py (and
    so without the sign-in gate) until the entry point has run once; only packages live there."""
    assert [path.name for path in (ROOT / "pages").glob("*.py")] == ["__init__.py"]


def test_the_ui_files_are_found():
    assert ROOT / "app.py" in UI_FILES and len(UI_FILES) > 3


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_do_not_build_sql(path):
    source = path.read_text(encoding="utf-8")
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
    # Grids of patients offer no client-side CSV download or copy, which no audit would record.
    assert client.get("disableDataExport") is True


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
