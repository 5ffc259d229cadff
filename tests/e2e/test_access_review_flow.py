"""An access review walked through: the privacy officer opens one (after a question); the
Sunbelt group admin sees the notice on Home, keeps three roles and removes one (after a
question, Cancel first); the role is gone on the Users screen; the privacy officer sees each
reviewer's progress, what still waits, and downloads the record. Both screens, filled, pass
axe-core's WCAG 2.1 AA rules."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import AccessReviewItem, Membership, Provider, User
from services import clock
from tests.e2e.axe import violations
from tests.e2e.conftest import _chromium, _start_portal, click_grid_row, settled, sign_in, stored

pytestmark = pytest.mark.browser

DALLAS = "Sunbelt Occupational Medicine - Dallas"
TAMPA = "Sunbelt Occupational Medicine - Tampa"


def _dana(db: Database) -> None:
    """A colleague at two Sunbelt clinics, so one of her roles can go and the other stay."""
    with db.transaction() as session:
        dallas, tampa = (session.scalar(select(Provider).where(Provider.name == name))
                         for name in (DALLAS, TAMPA))
        dana = User(email="dana@demo.test", name="Dana Diaz", status="active", created_at=clock.now())
        session.add(dana)
        session.flush()
        session.add_all([Membership(user_id=dana.id, group_id=p.group_id, provider_id=p.id,
                                    role="provider_staff") for p in (dallas, tampa)])


@pytest.fixture(scope="module")
def review_portal(tmp_path_factory):
    _chromium()
    yield from _start_portal(tmp_path_factory.mktemp("access-review"), {}, prepare=_dana)


def _item(portal: dict, reviewer: str, person: str, place: str) -> int:
    return stored(portal, select(AccessReviewItem.id).where(
        AccessReviewItem.reviewer_email == reviewer, AccessReviewItem.user_email == person,
        AccessReviewItem.role_label.contains(place)))


def _dana_places(portal: dict) -> set[int]:
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            return set(session.scalars(select(Membership.provider_id).join(
                User, User.id == Membership.user_id).where(User.email == "dana@demo.test")))
    finally:
        db.dispose()


def _open_review(page: Page, url: str) -> None:
    sign_in(page, url, "privacy@demo.test")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Access reviews").click()
    expect(page.get_by_role("heading", name="Access reviews", exact=True)).to_be_visible()
    expect(page.get_by_text("No access review yet.")).to_be_visible()
    form = page.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Name").fill("Fourth quarter review")
    form.get_by_role("button", name="Open the review…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Review: Fourth quarter review")
    expect(dialog).to_contain_text("Each reviewer gets an email now")
    dialog.get_by_role("button", name="Open the review").click()
    expect(page.get_by_text("Access review opened: 5 roles for 2 reviewers.")).to_be_visible()
    expect(page.get_by_role("heading", name="Progress per reviewer")).to_be_visible()


def test_privacy_opens_a_review_a_group_admin_completes_it(review_portal, context, browser):
    url = review_portal["url"]
    privacy = context.new_page()
    _open_review(privacy, url)

    other = browser.new_context()  # each person signs in in their own browser
    other.set_default_timeout(20_000)
    grace = other.new_page()
    sign_in(grace, url, "groupadmin@demo.test")
    expect(grace.get_by_text("An access review asks you to confirm 4 roles")).to_be_visible()
    grace.get_by_role("link", name="Review your people").first.click()
    expect(grace.get_by_role("heading", name="Review your people")).to_be_visible()
    expect(grace.get_by_text("0 of 4 roles done.")).to_be_visible()
    settled(grace)
    assert violations(grace, "Review your people") == []

    reviewer = "groupadmin@demo.test"
    keep = [_item(review_portal, reviewer, "clinicadmin@demo.test", "Houston"),
            _item(review_portal, reviewer, "clinic@demo.test", "Houston"),
            _item(review_portal, reviewer, "dana@demo.test", TAMPA)]
    remove = _item(review_portal, reviewer, "dana@demo.test", DALLAS)
    for done, item_id in enumerate(keep, start=1):
        row = grace.locator(f".st-key-access_item_{item_id}")
        row.get_by_role("button", name="Keep").click()
        expect(grace.get_by_text(f"{done} of 4 roles done.")).to_be_visible()
        expect(grace.locator(f".st-key-access_item_{item_id}")).to_have_count(0)
        settled(grace)

    # Remove asks first, naming the person and the role; Cancel keeps it.
    row = grace.locator(f".st-key-access_item_{remove}")
    expect(row).to_contain_text("Dana Diaz (dana@demo.test)")
    expect(row).to_contain_text(DALLAS)
    row.get_by_role("button", name="Remove", exact=True).click()
    dialog = grace.get_by_role("dialog")
    expect(dialog).to_contain_text("Dana Diaz (dana@demo.test)")
    expect(dialog).to_contain_text(f"This role is taken away now: Provider staff: {DALLAS}.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(grace.get_by_role("dialog")).to_have_count(0)
    settled(grace)
    assert len(_dana_places(review_portal)) == 2
    row.get_by_role("button", name="Remove", exact=True).click()
    grace.get_by_role("dialog").get_by_role("button", name="Remove the role").click()
    expect(grace.get_by_text("Role removed.")).to_be_visible()
    expect(grace.get_by_text("You have reviewed every role in this review.")).to_be_visible()
    expect(grace.get_by_text("4 of 4 roles done.")).to_be_visible()
    assert len(_dana_places(review_portal)) == 1

    # The Users screen shows Dana with her Tampa role only.
    grace.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
    expect(grace.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    grace.get_by_role("textbox", name="Email or name contains").fill("dana@")
    grace.get_by_role("button", name="Show people").click()
    settled(grace)
    grid = grace.get_by_test_id("stDataFrame").first
    expect(grid).to_contain_text("Dana Diaz")
    expect(grid).to_contain_text(TAMPA)
    expect(grid).not_to_contain_text(DALLAS)
    click_grid_row(grace, 0)
    expect(grace.get_by_role("heading", name="Dana Diaz (dana@demo.test), active")).to_be_visible()
    expect(grace.get_by_text(f"Provider staff: {TAMPA}", exact=True)).to_be_visible()
    expect(grace.get_by_text(f"Provider staff: {DALLAS}", exact=True)).to_have_count(0)

    # The privacy officer's page, fresh: Grace done, Carmen's one role still waiting.
    privacy.reload()
    expect(privacy.get_by_role("heading", name="Access reviews", exact=True)).to_be_visible()
    click_grid_row(privacy, 0)
    expect(privacy.get_by_role("heading", name="Progress per reviewer")).to_be_visible()
    grids = privacy.get_by_test_id("stDataFrame")  # the reviews, the progress, what waits
    progress = grids.nth(1)
    expect(progress).to_contain_text("Grace Gonzalez")
    expect(progress).to_contain_text("Carmen Castillo")
    waiting = grids.nth(2)
    expect(privacy.get_by_role("heading", name="Still waiting for an answer")).to_be_visible()
    expect(waiting).to_contain_text("Chris Chen")
    expect(waiting).not_to_contain_text("Dana Diaz")
    settled(privacy)
    assert violations(privacy, "Access reviews") == []
    with privacy.expect_download() as download:
        privacy.get_by_role("button", name="Download the record (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(
        open(download.value.path(), encoding="utf-8-sig").read())))
    assert len(rows) == 5
    states = {(r["Reviewer email"], r["Person email"], r["Role"]): r["State"] for r in rows}
    assert states[(reviewer, "dana@demo.test", f"Provider staff: {DALLAS}")] == "Removed"
    assert states[(reviewer, "dana@demo.test", f"Provider staff: {TAMPA}")] == "Kept"
    assert states[("clinicadmin@demo.test", "clinic@demo.test",
                   "Provider staff: Sunbelt Occupational Medicine - Houston")] == "Not reviewed yet"
