"""axe-core (npm, pinned in tests/e2e/accessibility) run inside Chromium on a drawn page.

A serious or critical WCAG 2.1 A/AA finding is returned as a readable line naming the rule, the
element and where it was. The few findings that come from Streamlit's own markup, which the
portal cannot change, are excluded one rule and one selector at a time below and explained in
docs/accessibility.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Page

from tests.conftest import _skip_or_fail

AXE_FOLDER = Path(__file__).resolve().parent / "accessibility"
AXE_SCRIPT = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

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


def require_axe() -> Path:
    """The axe-core script; skips (or fails, with REQUIRE_BROWSER=1) when npm never installed it."""
    if not AXE_SCRIPT.is_file():
        reason = ("axe-core is not installed" if shutil.which("npm") else "node/npm not installed"
                  ) + f": run `npm ci --no-audit --no-fund` in {AXE_FOLDER} (make test does)"
        _skip_or_fail("REQUIRE_BROWSER", reason)
    return AXE_SCRIPT


def violations(page: Page, where: str) -> list[str]:
    """Serious or critical WCAG A/AA findings on the page as drawn, as readable lines."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(require_axe()))
    found = []
    for violation in page.evaluate(_RUN_AXE, [WCAG_TAGS, STREAMLIT_EXCLUSIONS]):
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        for node in (node for node in violation["nodes"] if not node["excluded"]):
            why = " ".join(check["message"] for check in node["any"] + node["all"] + node["none"])
            found.append(f"{where}: {violation['id']} ({violation['impact']}) at "
                         f"{' '.join(map(str, node['target']))}: {why}")
    return found
