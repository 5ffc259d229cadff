"""Every screen each demo role can reach, and the sign-in screen, pass axe-core's WCAG 2.1 AA rules.

axe-core runs inside real Chromium on the rendered page; a serious or critical violation fails
the test with the rule, the elements it found and the screen and role it was on. The few
findings that come from Streamlit's own markup, which the portal cannot change, are excluded
one rule and one selector at a time below and explained in docs/accessibility.md.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sqlalchemy import select

from db.engine import Database
from db.models import User
from pages.navigation import Screen, screens_for
from services import principals
from tests.conftest import _skip_or_fail
from tests.e2e.conftest import _start_portal, click_grid_row, sign_in

pytestmark = pytest.mark.browser

AXE_FOLDER = Path(__file__).resolve().parent / "accessibility"
AXE_SCRIPT = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

ROLE_EMAILS = ["admin", "support", "accounts", "privacy", "manager", "groupadmin", "clinicadmin",
               "clinic", "employer", "payor", "tpa"]

# The screen's main heading when it differs from its title in the navigation.
HEADINGS = {"Home": "Welcome"}

# (rule id, Streamlit element) pairs: a finding of that rule on an element inside that part of
# Streamlit's own markup is not counted. See docs/accessibility.md "Exclusions" for each.
STREAMLIT_EXCLUSIONS = [
    # The sidebar navigation with sections: Streamlit puts each section's heading <div> and a
    # <div> around its links straight inside the <ul>, so the <li>s have no list parent.
    ("list", '[data-testid="stSidebarNavItems"]'),
    ("listitem", '[data-testid="stSidebarNavItems"]'),
]

# Runs axe in the page and marks each finding that an exclusion covers, judged on the element
# itself rather than on axe's generated selector (Streamlit's class names change between versions).
_RUN_AXE = """async ([tags, exclusions]) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                            resultTypes: ['violations']});
    for (const violation of result.violations) {
        for (const node of violation.nodes) {
            const element = document.querySelector(node.target[0]);
            node.excluded = exclusions.some(([rule, inside]) =>
                rule === violation.id && element !== null && element.closest(inside) !== null);
        }
    }
    return result.violations;
}"""


def _axe_script() -> Path:
    if not AXE_SCRIPT.is_file():
        reason = ("axe-core is not installed" if shutil.which("npm") else "node/npm not installed"
                  ) + f": run `npm ci --no-audit --no-fund` in {AXE_FOLDER} (make test does)"
        _skip_or_fail("REQUIRE_BROWSER", reason)
    return AXE_SCRIPT


@pytest.fixture(scope="module")
def quiet_portal(tmp_path_factory):
    """A portal of its own: opening screens writes audit events other browser tests may count."""
    _axe_script()
    yield from _start_portal(tmp_path_factory.mktemp("accessibility"), {})


def _screens(database_url: str, email: str) -> list[Screen]:
    """The screens the role's navigation lists, from the same table the sidebar is built from."""
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.email == email))
            return screens_for(principals.load(session, user))
    finally:
        db.dispose()


def _settled(page: Page, heading: str) -> None:
    """Wait until the script run that draws the screen has finished."""
    expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.locator("[data-stale='true']")).to_have_count(0)


def _violations(page: Page, where: str) -> list[str]:
    """Serious or critical WCAG A/AA findings on the page as drawn, as readable lines."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(_axe_script()))
    found = []
    for violation in page.evaluate(_RUN_AXE, [WCAG_TAGS, STREAMLIT_EXCLUSIONS]):
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        for node in (node for node in violation["nodes"] if not node["excluded"]):
            why = " ".join(check["message"] for check in node["any"] + node["all"] + node["none"])
            found.append(f"{where}: {violation['id']} ({violation['impact']}) at "
                         f"{' '.join(map(str, node['target']))}: {why}")
    return found


def test_sign_in_screen_has_no_serious_violations(quiet_portal, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(quiet_portal["url"])
        _settled(page, "Sign in to ResultsDesk")
        assert _violations(page, "Sign in (signed out)") == []
        # The check sees a real fault: a text box with no label is reported.
        page.evaluate("""() => document.querySelector('[data-testid="stMain"]')
                                 .insertAdjacentHTML('beforeend', '<input type="text" id="unnamed">')""")
        assert any("label (critical) at #unnamed" in line for line in _violations(page, "Sign in"))
    finally:
        context.close()


@pytest.mark.parametrize("role", ROLE_EMAILS)
def test_every_screen_of_the_role_has_no_serious_violations(quiet_portal, browser, role):
    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, quiet_portal["url"], f"{role}@demo.test")
        nav = page.get_by_test_id("stSidebarNav")
        found = []
        for screen in _screens(quiet_portal["database_url"], f"{role}@demo.test"):
            nav.get_by_role("link", name=screen.title, exact=True).click()
            expect(page).to_have_url(re.compile(f"/{'' if screen.url_path == 'home' else screen.url_path}$"))
            _settled(page, HEADINGS.get(screen.title, screen.title))
            found += _violations(page, f"{screen.title} as {role}@demo.test")
        assert found == [], "\n".join(found)
    finally:
        context.close()


def test_an_opened_report_and_its_first_page_picture_have_no_serious_violations(quiet_portal, browser):
    """The report panel is not a screen of its own in the navigation: open one from Reports."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, quiet_portal["url"], "employer@demo.test")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
        _settled(page, "Reports")
        click_grid_row(page, 0)
        page.get_by_role("button", name="Open report").click()
        picture = page.get_by_test_id("stImage").locator("img")
        expect(picture).to_be_visible()
        _settled(page, "Reports")
        expect(picture).to_have_attribute(
            "alt", re.compile(r"^Preview of page 1 of the .+ report, service date \d{4}-\d{2}-\d{2}$"))
        assert _violations(page, "an opened report as employer@demo.test") == []
    finally:
        context.close()
