"""A browser that asks by id for report after report it may not see is signed out as probing.

The account is not locked: the person (or whoever scripted their browser) can sign in again.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent, Report, User
from services import principals
from services.reports import scope
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def _out_of_scope_report_ids(database_url: str, email: str, count: int) -> list[int]:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            principal = principals.load(session, session.scalar(select(User).where(User.email == email)))
            seen = select(Report.id).where(scope.visible(session, principal))
            return list(session.scalars(select(Report.id).where(Report.id.not_in(seen))
                                        .order_by(Report.id).limit(count)))
    finally:
        db.dispose()


def _probing_events(database_url: str, email: str) -> list[AuditEvent]:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            return list(session.scalars(select(AuditEvent).where(
                AuditEvent.action == "session.probing", AuditEvent.actor_email == email)))
    finally:
        db.dispose()


def test_twenty_refused_reports_in_a_minute_end_the_session_without_locking_the_account(
        portal, context):
    url, database_url = portal["url"], portal["database_url"]
    email = "clinic@demo.test"
    targets = _out_of_scope_report_ids(database_url, email, 25)
    assert len(targets) == 25
    page = context.new_page()
    sign_in(page, url, email)
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()

    asked = 0
    for report_id in targets:
        page.goto(f"{url}/reports?report={report_id}")
        asked += 1
        signed_out = page.get_by_role("heading", name="Sign in to ResultsDesk")
        refused = page.get_by_text("This report is not available to you.")
        expect(signed_out.or_(refused)).to_be_visible()
        if signed_out.count():
            break
    # The twentieth refusal ends the session; the next address shows the sign-in screen.
    assert asked == 21, asked
    expect(page.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    assert len(_probing_events(database_url, email)) == 1

    sign_in(page, url, email)
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
