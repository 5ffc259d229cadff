"""Client accounts: who creates, edits, deactivates and reactivates them, what stays unique, what
a deactivated account's people still see, and inviting an account's first admin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.blob_store import BlobStore
from db.models import Account, AuditEvent, OutboxMessage, RoleInvitation
from services.errors import InvalidInput, PermissionDenied
from services.identity import memberships, role_invitations
from services.mail.addresses import MISMATCH
from services.organizations import client_accounts
from services.organizations.client_accounts import NAME_TAKEN, REF_TAKEN, AccountDetails
from services.policy import Grant, Role
from services.reports import search
from services.reports.ingest import IngestOutcome, ingest
from tests.conftest import principal_of
from tests.services.report_world import events
from tests.services.test_report_ingest import build_desk, upload


def _details(name: str = "Brightwater Logistics", kind: str = "employer", **more: str) -> AccountDetails:
    values = {"external_ref": "", "contact_name": "Dana Lee", "contact_email": "dana@brightwater.test",
              "contact_phone": "555-0100", **more}
    return AccountDetails(kind=kind, name=name, **values)


@pytest.fixture
def people(db, make_user):
    return {
        "root": make_user("root@x.test", staff=("system_admin",)),
        "rep": make_user("rep@x.test", staff=("account_rep",)),
        "support": make_user("support@x.test", staff=("support_rep",)),
        "manager": make_user("manager@x.test", staff=("manager",)),
    }


def _account(db, account_id: int) -> Account:
    with db.transaction(write=False) as session:
        account = session.get(Account, account_id)
        session.expunge(account)
        return account


def _audit(db, account_id: int) -> list[tuple[str, dict]]:
    with db.transaction(write=False) as session:
        return [(e.action, e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.target_type == "account",
                                     AuditEvent.target_id == str(account_id))
            .order_by(AuditEvent.id))]


@pytest.mark.parametrize("who", ["rep@x.test", "root@x.test"])
def test_a_representative_or_system_admin_creates_edits_deactivates_and_reactivates(db, people, who):
    actor = principal_of(db, who)
    account_id = client_accounts.create(db, actor, details=_details(
        "  Brightwater   Logistics ", external_ref="CRM-7", contact_email=" Dana@Brightwater.test "))
    created = _account(db, account_id)
    assert (created.name, created.kind, created.external_ref, created.contact_email,
            created.deactivated_at) == ("Brightwater Logistics", "employer", "CRM-7",
                                        "dana@brightwater.test", None)

    assert client_accounts.update_details(db, actor, account_id=account_id, details=_details(
        "Brightwater Freight", external_ref="CRM-7", contact_phone="555-0199"))
    # Saving the same details again changes nothing and records nothing.
    assert not client_accounts.update_details(db, actor, account_id=account_id, details=_details(
        "Brightwater Freight", external_ref="CRM-7", contact_phone="555-0199"))
    assert client_accounts.deactivate(db, actor, account_id=account_id) == 0
    assert _account(db, account_id).deactivated_at is not None
    with pytest.raises(InvalidInput, match="already deactivated"):
        client_accounts.deactivate(db, actor, account_id=account_id)
    assert client_accounts.reactivate(db, actor, account_id=account_id) == 0
    assert _account(db, account_id).deactivated_at is None

    trail = _audit(db, account_id)
    assert [action for action, _ in trail] == ["account.created", "account.changed",
                                               "account.deactivated", "account.reactivated"]
    assert trail[0][1]["after"]["name"] == "Brightwater Logistics"
    assert trail[1][1] == {"before": {"name": "Brightwater Logistics", "contact_phone": "555-0100"},
                           "after": {"name": "Brightwater Freight", "contact_phone": "555-0199"}}
    assert trail[2][1]["before"] == {"status": "active"}
    assert trail[2][1]["after"] == {"status": "deactivated"}
    assert trail[3][1]["after"] == {"status": "active"}


@pytest.mark.parametrize("who", ["support@x.test", "manager@x.test"])
def test_roles_without_the_accounts_action_are_refused_and_change_nothing(db, people, who):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details())
    other = principal_of(db, who)
    before = _account(db, account_id)
    for attempt in (
            lambda: client_accounts.create(db, other, details=_details("Another Co")),
            lambda: client_accounts.update_details(db, other, account_id=account_id,
                                                   details=_details("Renamed")),
            lambda: client_accounts.deactivate(db, other, account_id=account_id),
            lambda: client_accounts.reactivate(db, other, account_id=account_id),
            lambda: client_accounts.invite_admin(db, other, account_id=account_id,
                                                 email="a@b.test", email_again="a@b.test",
                                                 name="A B"),
            lambda: client_accounts.accounts(db, other)):
        with pytest.raises(PermissionDenied):
            attempt()
    after = _account(db, account_id)
    assert (after.name, after.deactivated_at) == (before.name, None)
    denials = events(db, "permission.denied")
    assert len(denials) == 6
    assert {e.details["action"] for e in denials} == {"manage_client_accounts"}
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        assert session.scalar(select(func.count()).select_from(RoleInvitation)) == 0


def test_a_client_account_admin_may_not_manage_accounts(db, people, make_user):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details())
    make_user("own.admin@x.test", accounts=((account_id, "account_admin"),))
    admin = principal_of(db, "own.admin@x.test")
    with pytest.raises(PermissionDenied):
        client_accounts.deactivate(db, admin, account_id=account_id)
    assert _account(db, account_id).deactivated_at is None


def test_names_and_external_references_are_unique_and_the_message_says_so(db, people):
    rep = principal_of(db, "rep@x.test")
    first = client_accounts.create(db, rep, details=_details("Acme Freight", external_ref="CRM-1"))
    # Two accounts without an external reference are fine.
    client_accounts.create(db, rep, details=_details("Globex", kind="payor"))
    client_accounts.create(db, rep, details=_details("Initech", kind="tpa"))
    with pytest.raises(InvalidInput) as taken:
        client_accounts.create(db, rep, details=_details("acme FREIGHT", kind="payor"))
    assert str(taken.value) == NAME_TAKEN
    with pytest.raises(InvalidInput) as taken:
        client_accounts.create(db, rep, details=_details("Umbrella", external_ref="CRM-1"))
    assert str(taken.value) == REF_TAKEN
    with pytest.raises(InvalidInput, match=NAME_TAKEN):
        client_accounts.update_details(db, rep, account_id=first, details=_details("Globex"))
    other = client_accounts.create(db, rep, details=_details("Hooli", external_ref="CRM-2"))
    with pytest.raises(InvalidInput, match=REF_TAKEN):
        client_accounts.update_details(db, rep, account_id=other,
                                       details=_details("Hooli", external_ref="CRM-1"))
    # Keeping one's own name and reference is no clash.
    assert client_accounts.update_details(db, rep, account_id=first, details=_details(
        "Acme Freight", external_ref="CRM-1", contact_name="Someone Else"))
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 4


@pytest.mark.parametrize("change, message", [
    (dict(name="  "), "Enter the account's name."),
    (dict(kind="school"), "Choose the kind of account"),
    (dict(contact_name=""), "main contact"),
    (dict(contact_email="not an address"), "valid email address for the main contact"),
    (dict(name="x" * 201), "longer than 200 characters"),
])
def test_bad_details_are_refused_with_a_reason(db, people, change, message):
    rep = principal_of(db, "rep@x.test")
    values = {"name": "Brightwater", "kind": "employer", **change}
    with pytest.raises(InvalidInput, match=message):
        client_accounts.create(db, rep, details=_details(**values))
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_the_kind_is_fixed_once_the_account_exists(db, people):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details(kind="employer"))
    with pytest.raises(InvalidInput, match="kind cannot change"):
        client_accounts.update_details(db, rep, account_id=account_id,
                                       details=_details(kind="payor"))
    assert _account(db, account_id).kind == "employer"


def test_an_account_may_be_created_deactivated(db, people):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details(), active=False)
    assert _account(db, account_id).deactivated_at is not None
    assert _audit(db, account_id)[0][1]["after"]["status"] == "deactivated"


def _seen(world, user_key: str) -> set[str]:
    rows = search.search(world.db, world.principal(user_key), search.ReportFilter()).rows
    return {world.key_of(row.id) for row in rows}


def test_a_deactivated_accounts_people_lose_it_at_once_and_keep_their_other_accounts(world):
    rep = world.principal("account_rep")
    both_before = _seen(world, "acme_and_payco")
    payco_only = _seen(world, "payco_user")
    acme_only = _seen(world, "acme_user")
    assert acme_only and payco_only and both_before == acme_only | payco_only

    assert client_accounts.deactivate(world.db, rep, account_id=world.account["acme"]) == 3

    assert [link.account_id for link in world.principal("acme_and_payco").account_links] == [
        world.account["payco"]]
    assert _seen(world, "acme_and_payco") == payco_only
    # Someone whose only account it was holds no role now: the Reports search refuses them.
    assert world.principal("acme_user").account_links == ()
    with pytest.raises(PermissionDenied):
        _seen(world, "acme_user")
    assert _seen(world, "globex_user") != set()  # another account is untouched
    assert client_accounts.reactivate(world.db, rep, account_id=world.account["acme"]) == 3
    assert _seen(world, "acme_and_payco") == both_before


def test_deactivation_cancels_waiting_invitations_and_refuses_new_roles_there(db, people, make_user):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details())
    invitation = client_accounts.invite_admin(db, rep, account_id=account_id, email="ada@x.test",
                                              email_again="ada@x.test", name="Ada Admin")
    client_accounts.deactivate(db, rep, account_id=account_id)
    with db.transaction(write=False) as session:
        assert session.get(RoleInvitation, invitation).status == "cancelled"
    with pytest.raises(InvalidInput, match="deactivated"):
        client_accounts.invite_admin(db, rep, account_id=account_id, email="bo@x.test",
                                     email_again="bo@x.test", name="Bo")
    other = client_accounts.create(db, rep, details=_details("Other Co", kind="payor"))
    user = make_user("someone@x.test", accounts=((other, "account_user"),))
    with pytest.raises(InvalidInput, match="deactivated"):
        memberships.grant(db, rep, user_id=user, role=Grant(Role.ACCOUNT_USER, account_id=account_id))
    assert all(grant.account_id != account_id for _, grant in memberships.grantable(db, rep))


def test_the_first_admin_is_invited_through_a_role_invitation(db, people):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details())
    invitation_id = client_accounts.invite_admin(
        db, rep, account_id=account_id, email=" Ada@Example.TEST", email_again="ada@example.test",
        name="Ada Admin")
    with db.transaction(write=False) as session:
        invitation = session.get(RoleInvitation, invitation_id)
        assert (invitation.email, invitation.role, invitation.account_id, invitation.status) == (
            "ada@example.test", "account_admin", account_id, "pending")
        mails = session.scalars(select(OutboxMessage.to_address)).all()
    assert mails == ["ada@example.test"]
    assert [row.email for row in role_invitations.waiting(db, rep)] == ["ada@example.test"]


def test_an_address_typed_differently_twice_sends_nothing(db, people):
    rep = principal_of(db, "rep@x.test")
    account_id = client_accounts.create(db, rep, details=_details())
    with pytest.raises(InvalidInput) as refused:
        client_accounts.invite_admin(db, rep, account_id=account_id, email="ada@example.test",
                                     email_again="ada@exmaple.test", name="Ada Admin")
    assert str(refused.value) == MISMATCH
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(RoleInvitation)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.fixture
def desk(db, fake_clock, make_user, tmp_path):
    return build_desk(db, make_user, BlobStore(tmp_path / "blobs"))


def test_uploads_naming_a_deactivated_account_are_refused_with_the_reason(desk, make_user):
    make_user("rep@x.test", staff=("account_rep",))
    rep = principal_of(desk.db, "rep@x.test")
    admin = desk.principal("admin_p1")
    client_accounts.deactivate(desk.db, rep, account_id=desk.account["acme"])
    outcome, = ingest(desk.db, admin, [upload(desk, "late.pdf")], blob_store=desk.store)
    assert outcome == IngestOutcome("late.pdf", "rejected", None, "This employer account is "
                                    "deactivated: reports are no longer posted to it.")
    client_accounts.reactivate(desk.db, rep, account_id=desk.account["acme"])
    outcome, = ingest(desk.db, admin, [upload(desk, "late.pdf")], blob_store=desk.store)
    assert outcome.result == "posted"
