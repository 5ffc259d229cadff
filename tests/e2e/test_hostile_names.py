"""Every screen each role can reach shows names as typed and passes axe-core's WCAG 2.1 AA rules.

The portal's names (people, provider groups, providers, client accounts, patients, report
types) are changed to text that Markdown or HTML would turn into a live link, bold type or a
script, then every screen each role can reach is opened in Chromium and searched for what that
text would become, and axe-core (tests/e2e/axe.py) checks the screen as drawn. One walk does
both: opening every screen of every role is the slow part.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from db.engine import Database
from tests.e2e.axe import require_axe, violations
from tests.e2e.conftest import _chromium, _start_portal, settled, sign_in

pytestmark = pytest.mark.browser

# An image whose error handler runs script, Markdown bold and link, and a bare address that
# Markdown would turn into a link by itself.
HOSTILE = "<img src=x onerror=alert(1)> **bold** [link](http://evil.example) www.evil.example"


def _hostile_names(db: Database) -> None:
    with db.engine.begin() as connection:
        for table, column in (("users", "name"), ("provider_groups", "name"), ("providers", "name")):
            connection.execute(text(f"UPDATE {table} SET {column} = :name || ' ' || id"),
                               {"name": HOSTILE})
        # Account names are unique; the kind and id keep them apart.
        connection.execute(text("UPDATE accounts SET name = :name || ' ' || kind || ' ' || id"),
                           {"name": HOSTILE})
        connection.execute(text("UPDATE patients SET last_name = :name, first_name = '_x_'"),
                           {"name": HOSTILE[:100]})
        # Report type names are typed by a system admin (unique; the code keeps them apart).
        connection.execute(text("UPDATE report_types SET name = :name || ' ' || code"),
                           {"name": HOSTILE})


@pytest.fixture(scope="module")
def hostile_portal(tmp_path_factory):
    _chromium()
    require_axe()
    yield from _start_portal(tmp_path_factory.mktemp("hostile"), {}, prepare=_hostile_names)


def _settled(page: Page) -> None:
    """Wait until the screen has a heading and Streamlit has finished running it."""
    expect(page.locator("[data-testid='stMain'] h1").first).to_be_visible()
    settled(page)


def _assert_shown_as_typed(page: Page, where: str) -> None:
    assert page.locator("a[href*='evil.example']").count() == 0, f"a live link on {where}"
    assert page.locator("img[src='x']").count() == 0, f"an injected image on {where}"
    bold = page.locator("strong, b").filter(has_text="bold")
    assert all(text.strip() != "bold" for text in bold.all_inner_texts()), f"bold markup on {where}"
    # The signed-in person's own (hostile) name is in the sidebar of every screen, as typed.
    expect(page.get_by_test_id("stSidebar")).to_contain_text("**bold** [link](http://evil.example)")


def _walk_every_screen(page: Page, url: str, email: str) -> tuple[list[str], list[str]]:
    """Open every screen of the navigation; returns their titles and axe's serious findings."""
    alerts: list[str] = []
    found: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    sign_in(page, url, email)
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    _settled(page)
    nav = page.get_by_test_id("stSidebarNav")
    titles = [t.strip() for t in nav.get_by_role("link").all_inner_texts()]
    assert titles, f"no screens for {email}"
    for title in titles:
        nav.get_by_role("link", name=title, exact=True).click()
        _settled(page)
        _assert_shown_as_typed(page, f"{title} as {email}")
        assert page.get_by_test_id("stException").count() == 0, f"an error on {title} as {email}"
        found += violations(page, f"{title} as {email}")
    assert alerts == [], f"script ran for {email}: {alerts}"
    return titles, found


@pytest.mark.parametrize("email", [f"{name}@demo.test" for name in (
    "admin", "support", "accounts", "privacy", "manager", "groupadmin", "clinicadmin", "clinic",
    "employer", "payor", "tpa")])
def test_every_screen_shows_names_as_typed_and_passes_axe(hostile_portal, context, email):
    page = context.new_page()
    titles, found = _walk_every_screen(page, hostile_portal["url"], email)
    assert "Home" in titles and "My account" in titles
    assert found == [], "\n".join(found)


def test_an_opened_report_shows_hostile_patient_provider_and_account_names_as_typed(
        hostile_portal, context):
    db = Database(hostile_portal["database_url"])
    try:
        with db.engine.connect() as connection:
            report_id = connection.execute(text(
                "SELECT r.id FROM reports r JOIN report_recipients rr ON rr.report_id = r.id "
                "JOIN account_memberships am ON am.account_id = rr.account_id "
                "JOIN users u ON u.id = am.user_id WHERE u.email = 'employer@demo.test' "
                "AND r.status = 'available' ORDER BY r.id DESC LIMIT 1")).scalar_one()
    finally:
        db.dispose()
    page = context.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    sign_in(page, hostile_portal["url"], "employer@demo.test")
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    # A new address starts a new Streamlit session, which signs in from the session cookie.
    for _ in range(100):
        if context.cookies():
            break
        page.wait_for_timeout(100)
    page.goto(f"{hostile_portal['url']}/reports?report={report_id}")
    _settled(page)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(f"report {report_id}")
    # Patient, provider and recipient account are all hostile names here.
    expect(main).to_contain_text("www.evil.example, _x_")
    _assert_shown_as_typed(page, f"report {report_id}")
    assert alerts == []
