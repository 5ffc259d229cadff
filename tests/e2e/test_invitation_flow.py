"""A clinic admin invites an address that has an account (someone outside the clinic's reach) and
one that has none: both answers and both list entries look alike, nothing is given before
acceptance, and the invited person accepts from the link in the emailed .eml file, signed in."""

from __future__ import annotations

import email
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import Membership, User
from services import principals
from services.identity import role_invitations
from services.mail import outbox
from tests.e2e.conftest import _start_portal, sign_in

pytestmark = pytest.mark.browser

ROLE = "Provider staff: Sunbelt Occupational Medicine - Houston"
KNOWN = "employer@demo.test"  # a client user: wholly outside the clinic admin's reach
NEW = "new.colleague@example.test"


def _invite(page: Page, database_url: str, address: str) -> None:
    page.get_by_role("textbox", name="Email address (their user ID)").fill(address)
    page.get_by_role("textbox", name="Email address again").fill(address)
    page.get_by_role("textbox", name="Name", exact=True).fill("Typed By Admin")
    box = page.get_by_role("combobox", name="Role to give")
    box.click()
    page.keyboard.type("Provider staff")
    page.get_by_role("option", name=ROLE).click()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent. The link works for 48 hours")).to_be_visible()
    # The answer to an earlier invitation may still be on screen: wait for this one's entry.
    for _ in range(100):
        if address in {row.email for row in _waiting(database_url, "clinicadmin@demo.test")}:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"no invitation to {address} appeared")


def _provider_roles(database_url: str, address: str) -> list[str]:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.email == address))
            return list(session.scalars(select(Membership.role).where(Membership.user_id == user.id)))
    finally:
        db.dispose()


def _waiting(database_url: str, admin: str) -> list:
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            principal = principals.load(session, session.scalar(select(User).where(User.email == admin)))
        return role_invitations.waiting(db, principal)
    finally:
        db.dispose()


def _link_from_outbox(database_url: str, folder, address: str) -> str:
    """Deliver the queued emails as .eml files, as the send job does without SMTP, and read the
    invitation to `address` back from its file."""
    db = Database(database_url)
    try:
        outbox.send_due(db, transport=outbox.EmlFolderTransport(folder))
    finally:
        db.dispose()
    for path in sorted(folder.glob("*-invitation.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            body = message.get_payload(decode=True).decode()
            assert "invited you to ResultsDesk as " + ROLE in body.replace("\n", " ")
            return re.search(r"/accept-invitation\?token=[\w-]+", body).group(0)
    raise AssertionError(f"no invitation to {address} in {folder}")


@pytest.fixture(scope="module")
def invitation_portal(tmp_path_factory):
    """Its own portal: employer@ accepts a provider role here, and then sees that provider's
    reports, which would change what the shared portal's employer walks find."""
    yield from _start_portal(tmp_path_factory.mktemp("invitations"), {})


def test_invitations_to_known_and_new_addresses_look_alike_and_wait_for_acceptance(
        invitation_portal, context, tmp_path):
    url, database_url = invitation_portal["url"], invitation_portal["database_url"]
    page = context.new_page()
    sign_in(page, url, "clinicadmin@demo.test")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()

    _invite(page, database_url, KNOWN)
    _invite(page, database_url, NEW)
    # Both entries: address, the name typed, the role, "Invitation sent"; no account's details.
    heading = page.get_by_role("heading", name="Invitations waiting for an answer")
    # While a run redraws the screen the old copy of a moved element lingers: wait for one.
    expect(heading).to_have_count(1)
    expect(page.get_by_text("Select an invitation to send it again")).to_have_count(1)
    expect(page.get_by_text("Select an invitation to send it again")).to_be_visible()
    # The grid is drawn on a canvas: its rows are read through the service the screen renders.
    entries = {row.email: row for row in _waiting(database_url, "clinicadmin@demo.test")}
    known, new = entries[KNOWN], entries[NEW]
    assert (known.name, known.role, known.expired) == (new.name, new.role, new.expired) == (
        "Typed By Admin", ROLE, False)
    expect(page.get_by_text("Erin Ellis")).to_have_count(0)
    assert _provider_roles(database_url, KNOWN) == []  # nothing given yet

    link = _link_from_outbox(database_url, tmp_path / "outbox", KNOWN)

    # The invited person opens the link: who invited them to what; they sign in, then accept.
    invitee = context.browser.new_context()
    try:
        their_page = invitee.new_page()
        their_page.goto(url + link)
        expect(their_page.get_by_role("heading", name="Accept your invitation")).to_be_visible()
        expect(their_page.get_by_text(f"Carmen Castillo invited {KNOWN} to ResultsDesk as {ROLE}."))\
            .to_be_visible()
        expect(their_page.get_by_text("already has a ResultsDesk account")).to_be_visible()
        sign_in(their_page, url, KNOWN)
        expect(their_page.get_by_role("heading", name="Welcome")).to_be_visible()
        their_page.goto(url + link)
        expect(their_page.get_by_text(f"Carmen Castillo invited {KNOWN}")).to_be_visible()
        assert _provider_roles(database_url, KNOWN) == []
        their_page.get_by_role("button", name="Accept", exact=True).click()
        expect(their_page.get_by_text(f"Accepted: you are now {ROLE}.")).to_be_visible()
    finally:
        invitee.close()
    assert _provider_roles(database_url, KNOWN) == ["provider_staff"]

    # Back on the admin's screen: the accepted invitation has left the list; the other waits.
    page.reload()
    expect(page.get_by_role("heading", name="Invitations waiting for an answer")).to_have_count(1)
    assert [row.email for row in _waiting(database_url, "clinicadmin@demo.test")] == [NEW]
