"""Provider groups: who sees which group and provider, registering a provider (NPI check digit,
one message for every NPI already registered, races), creating a group, editing, moving with
the roles held at the provider, deactivating (uploads stop, reports and roles stay), adding a
person of the group to another provider through the delegation rules, and the audit trail.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from db.blob_store import BlobStore
from db.engine import Database
from db.models import (
    Account,
    AuditEvent,
    Membership,
    Provider,
    ProviderGroup,
    RegistrationCode,
    Report,
    User,
)
from services import principals
from services.errors import InvalidInput, PermissionDenied
from services.organizations import provider_groups as pg
from services.organizations import registration
from services.organizations.provider_groups import ProviderDetails
from services.policy import Role
from services.privacy import audit_words
from services.reports import scope
from services.principals import Principal
from services.reports.ingest import ReportUpload, ingest, upload_choices
from tests.services.report_world import events, npi_number
from tests.conftest import START
from tests.services.report_world import load_principal, pdf_for

NEW = ProviderDetails(name="Northside West", provider_type="Urgent care", address="9 Elm St",
                      city="Austin", state="tx", postal_code="78701", phone="(512) 555-0100",
                      fax="(512) 555-0101")


@dataclass
class Desk:
    db: Database
    store: BlobStore
    group: dict[str, int]
    provider: dict[str, int]
    npi: dict[str, str]
    user: dict[str, int]

    def principal(self, key: str) -> Principal:
        return load_principal(self.db, self.user[key])


@pytest.fixture
def desk(db, fake_clock, make_user, tmp_path) -> Desk:
    """Two groups: north with p1 and p2, south with p3; one employer; a person per role."""
    with db.transaction() as session:
        session.add(Account(name="Acme Freight", kind="employer", created_at=START))
        groups = {"north": ProviderGroup(name="Northside Clinics", npi=npi_number(1), created_at=START),
                  "south": ProviderGroup(name="Southside Clinics", npi=npi_number(2), created_at=START)}
        session.add_all(groups.values())
        session.flush()
        providers = {key: Provider(group_id=groups[group].id, name=name, npi=npi_number(10 + n),
                                   state=state)
                     for n, (key, group, name, state) in enumerate((
                         ("p1", "north", "Northside Main", "TX"),
                         ("p2", "north", "Northside East", "OK"),
                         ("p3", "south", "Southside Main", "CA")), start=1)}
        session.add_all(providers.values())
        session.flush()
        group = {k: v.id for k, v in groups.items()}
        provider = {k: v.id for k, v in providers.items()}
        npis = {k: v.npi for k, v in providers.items()}
    north, south = group["north"], group["south"]
    people = {
        "sysadmin": dict(staff=("system_admin",)),
        "support": dict(staff=("support_rep",)),
        "account_rep": dict(staff=("account_rep",)),
        "gadmin": dict(provider=((north, None, "provider_group_admin"),)),
        "gadmin_south": dict(provider=((south, None, "provider_group_admin"),)),
        "admin_p1": dict(provider=((north, provider["p1"], "provider_admin"),)),
        "staff_p1": dict(provider=((north, provider["p1"], "provider_staff"),)),
        "staff_p2": dict(provider=((north, provider["p2"], "provider_staff"),)),
        "admin_p3": dict(provider=((south, provider["p3"], "provider_admin"),)),
        "both_groups": dict(provider=((north, provider["p2"], "provider_staff"),
                                      (south, provider["p3"], "provider_staff"))),
        "client": dict(accounts=()),
    }
    users = {key: make_user(f"{key}@x.test", name=key.replace("_", " ").title(), **kwargs)
             for key, kwargs in people.items()}
    return Desk(db, BlobStore(tmp_path / "blobs"), group, provider, npis, users)


def upload(desk: Desk, label: str, **overrides: str) -> ReportUpload:
    fields = {"report_type": "ccf", "provider_npi": desk.npi["p1"], "service_date": "2026-10-30",
              "patient_last_name": "Gonzalez", "patient_first_name": "Maria",
              "patient_date_of_birth": "1980-04-01", "employee_id": "E100",
              "employer": "Acme Freight", "injury": "no", "claim_number": "", "claim_payer": ""}
    return ReportUpload(label, pdf_for(label, 1), {**fields, **overrides})


def _denials(desk: Desk) -> int:
    return len(events(desk.db, "permission.denied"))


def _provider(desk: Desk, provider_id: int) -> Provider:
    with desk.db.transaction(write=False) as session:
        provider = session.get(Provider, provider_id)
        session.expunge(provider)
        return provider


# --- who sees what -----------------------------------------------------------------------------


def test_staff_see_every_group_a_group_admin_theirs_a_provider_admin_only_their_provider(desk):
    everyone = {g.name: g.providers for g in pg.groups(desk.db, desk.principal("support"))}
    assert everyone == {"Northside Clinics": 2, "Southside Clinics": 1}
    assert {g.name for g in pg.groups(desk.db, desk.principal("sysadmin"))} == set(everyone)
    assert [(g.name, g.providers) for g in pg.groups(desk.db, desk.principal("gadmin"))] == [
        ("Northside Clinics", 2)]
    assert [(g.name, g.providers) for g in pg.groups(desk.db, desk.principal("admin_p1"))] == [
        ("Northside Clinics", 1)]
    seen = pg.view(desk.db, desk.principal("admin_p1"), group_id=desk.group["north"])
    assert [p.id for p in seen.providers] == [desk.provider["p1"]]
    assert not seen.manages_group and not seen.everywhere
    whole = pg.view(desk.db, desk.principal("gadmin"), group_id=desk.group["north"])
    assert {p.id for p in whole.providers} == {desk.provider["p1"], desk.provider["p2"]}
    assert whole.manages_group and not whole.everywhere
    assert pg.view(desk.db, desk.principal("support"), group_id=desk.group["north"]).everywhere


@pytest.mark.parametrize("who", ["staff_p1", "client", "account_rep"])
def test_roles_without_the_action_are_refused_and_audited(desk, who):
    before = _denials(desk)
    with pytest.raises(PermissionDenied):
        pg.groups(desk.db, desk.principal(who))
    with pytest.raises(PermissionDenied):
        pg.view(desk.db, desk.principal(who), group_id=desk.group["north"])
    assert _denials(desk) == before + 2


def test_another_groups_provider_and_an_unknown_one_get_the_same_refusal(desk):
    gadmin = desk.principal("gadmin")
    for group_id in (desk.group["south"], 999_999):
        with pytest.raises(PermissionDenied) as refused:
            pg.view(desk.db, gadmin, group_id=group_id)
        assert str(refused.value) == "You do not have permission to do that."
        with pytest.raises(PermissionDenied):
            pg.people(desk.db, gadmin, group_id=group_id)
    for provider_id in (desk.provider["p3"], 999_999):
        for call in (lambda: pg.edit_provider(desk.db, gadmin, provider_id=provider_id, details=NEW),
                     lambda: pg.deactivate_provider(desk.db, gadmin, provider_id=provider_id),
                     lambda: pg.add_to_provider(desk.db, gadmin, user_id=desk.user["staff_p1"],
                                                provider_id=provider_id)):
            with pytest.raises(PermissionDenied):
                call()
    with pytest.raises(PermissionDenied):
        pg.register_provider(desk.db, gadmin, group_id=desk.group["south"],
                             npi_number=npi_number(500), details=NEW)
    assert _provider(desk, desk.provider["p3"]).deactivated_at is None
    # A provider admin reaches their own provider only, not its sibling in the same group.
    admin_p1 = desk.principal("admin_p1")
    with pytest.raises(PermissionDenied):
        pg.edit_provider(desk.db, admin_p1, provider_id=desk.provider["p2"], details=NEW)
    with pytest.raises(PermissionDenied):
        pg.view(desk.db, admin_p1, group_id=desk.group["south"])


def test_the_providers_table_counts_users_and_reports_per_provider(desk):
    posted = ingest(desk.db, desk.principal("gadmin"),
                    [upload(desk, "a.pdf"), upload(desk, "b.pdf"),
                     upload(desk, "c.pdf", provider_npi=desk.npi["p2"])], blob_store=desk.store)
    assert [o.result for o in posted] == ["posted"] * 3
    rows = {p.id: p for p in pg.view(desk.db, desk.principal("support"),
                                     group_id=desk.group["north"]).providers}
    # p1: admin_p1 and staff_p1; p2: staff_p2 and both_groups (the group admin is group-wide).
    assert (rows[desk.provider["p1"]].users, rows[desk.provider["p1"]].reports) == (2, 2)
    assert (rows[desk.provider["p2"]].users, rows[desk.provider["p2"]].reports) == (2, 1)
    assert rows[desk.provider["p1"]].status == "active"


# --- registering -------------------------------------------------------------------------------


def test_a_group_admin_registers_a_provider_with_every_detail_and_it_is_audited(desk):
    gadmin = desk.principal("gadmin")
    new_id = pg.register_provider(desk.db, gadmin, group_id=desk.group["north"],
                                  npi_number=f" {npi_number(500)} ", details=NEW)
    row = _provider(desk, new_id)
    assert (row.group_id, row.npi, row.name, row.provider_type, row.state, row.postal_code,
            row.phone, row.fax) == (desk.group["north"], npi_number(500), "Northside West",
                                    "Urgent care", "TX", "78701", "(512) 555-0100", "(512) 555-0101")
    [event] = events(desk.db, "provider.registered")
    assert (event.actor_user_id, event.target_type, event.target_id) == (
        desk.user["gadmin"], "provider", str(new_id))
    assert event.details == {"npi": npi_number(500), "group_id": desk.group["north"]}
    with desk.db.transaction(write=False) as session:
        [line] = audit_words.lines(session, [event])
    assert line.sentence == f"Provider registered: Northside West (provider {new_id})"
    # The new location is one the group admin may now post for.
    assert npi_number(500) in upload_choices(desk.db, gadmin).providers


def test_support_registers_in_any_group_a_provider_admin_in_none(desk):
    assert pg.register_provider(desk.db, desk.principal("support"), group_id=desk.group["south"],
                                npi_number=npi_number(501), details=NEW)
    with pytest.raises(PermissionDenied):
        pg.register_provider(desk.db, desk.principal("admin_p1"), group_id=desk.group["north"],
                             npi_number=npi_number(502), details=NEW)


@pytest.mark.parametrize("bad", ["", "123456789", "12345678901", "abcdefghij",
                                 "3" + npi_number(503)[1:]])
def test_an_npi_without_ten_digits_or_a_valid_check_digit_is_refused(desk, bad):
    wrong_digit = npi_number(503)[:9] + str((int(npi_number(503)[9]) + 1) % 10)
    for number in (bad, wrong_digit):
        with pytest.raises(InvalidInput) as refused:
            pg.register_provider(desk.db, desk.principal("gadmin"), group_id=desk.group["north"],
                                 npi_number=number, details=NEW)
        assert str(refused.value) == pg.BAD_NPI
    assert not events(desk.db, "provider.registered")


def test_an_npi_registered_anywhere_gets_one_message_whoever_has_it(desk):
    with desk.db.transaction(write=False) as session:
        south_group_npi = session.scalar(select(ProviderGroup.npi)
                                         .where(ProviderGroup.id == desk.group["south"]))
    taken = {
        "a provider of this group": desk.npi["p2"],
        "a provider of another group": desk.npi["p3"],
        "another group's own NPI": south_group_npi,
    }
    messages = set()
    for number in taken.values():
        with pytest.raises(InvalidInput) as refused:
            pg.register_provider(desk.db, desk.principal("gadmin"), group_id=desk.group["north"],
                                 npi_number=number, details=NEW)
        messages.add(str(refused.value))
    assert messages == {pg.NPI_TAKEN}
    assert "South" not in pg.NPI_TAKEN and "group" not in pg.NPI_TAKEN


def test_two_registrations_of_one_npi_at_once_make_one_provider(desk):
    gadmin, support = desk.principal("gadmin"), desk.principal("support")
    results: list[object] = []
    start = threading.Barrier(2)

    def register(principal, group_id):
        start.wait()
        try:
            results.append(pg.register_provider(desk.db, principal, group_id=group_id,
                                                npi_number=npi_number(504), details=NEW))
        except InvalidInput as refused:
            results.append(str(refused))

    threads = [threading.Thread(target=register, args=(gadmin, desk.group["north"])),
               threading.Thread(target=register, args=(support, desk.group["south"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(r).__name__ for r in results) == ["int", "str"]
    assert pg.NPI_TAKEN in results
    with desk.db.transaction(write=False) as session:
        assert len(session.scalars(select(Provider).where(Provider.npi == npi_number(504))).all()) == 1


def test_the_unique_index_answers_with_the_same_message(desk, monkeypatch):
    """Another path writing the NPI between the check and the insert: the index refuses it."""
    monkeypatch.setattr(pg, "_free_npi", lambda db, session, number: None)
    with pytest.raises(InvalidInput) as refused:
        pg.register_provider(desk.db, desk.principal("gadmin"), group_id=desk.group["north"],
                             npi_number=desk.npi["p3"], details=NEW)
    assert str(refused.value) == pg.NPI_TAKEN
    assert not events(desk.db, "provider.registered")


@pytest.mark.parametrize("field, value, message", [
    ("name", " ", "Enter the provider's name"),
    ("state", "Texas", "two-letter code"),
    ("phone", "call me", "phone number"),
    ("fax", "1" * 41, "fax is longer than 40"),
])
def test_bad_details_are_refused_and_change_nothing(desk, field, value, message):
    details = ProviderDetails(**{**NEW.__dict__, field: value})
    with pytest.raises(InvalidInput, match=message):
        pg.register_provider(desk.db, desk.principal("gadmin"), group_id=desk.group["north"],
                             npi_number=npi_number(505), details=details)
    with desk.db.transaction(write=False) as session:
        assert session.scalar(select(Provider.id).where(Provider.npi == npi_number(505))) is None


def test_support_creates_a_group_with_its_first_provider_and_unused_codes_stop(desk):
    support = desk.principal("support")
    issued = registration.issue_code(desk.db, support, npi_number=npi_number(600),
                                     facility_name="Lakeside Clinic")
    group_id = pg.create_group(desk.db, support, group_name=" Lakeside   Health ",
                               npi_number=npi_number(600),
                               details=ProviderDetails(name="Lakeside Clinic", state="LA"))
    with desk.db.transaction(write=False) as session:
        group = session.get(ProviderGroup, group_id)
        assert (group.name, group.npi) == ("Lakeside Health", npi_number(600))
        [first] = session.scalars(select(Provider).where(Provider.group_id == group_id)).all()
        assert (first.name, first.npi, first.state) == ("Lakeside Clinic", npi_number(600), "LA")
        assert session.get(RegistrationCode, issued.id).used_at is not None
    [event] = events(desk.db, "provider_group.created")
    assert event.details == {"npi": npi_number(600), "provider_id": first.id, "superseded": 1}
    with pytest.raises(InvalidInput) as refused:
        pg.create_group(desk.db, support, group_name="Again", npi_number=npi_number(600),
                        details=ProviderDetails(name="Again"))
    assert str(refused.value) == pg.NPI_TAKEN
    for who in ("gadmin", "admin_p1"):
        with pytest.raises(PermissionDenied):
            pg.create_group(desk.db, desk.principal(who), group_name="Mine",
                            npi_number=npi_number(601), details=ProviderDetails(name="Mine"))


# --- editing -----------------------------------------------------------------------------------


def test_a_group_admin_edits_any_detail_and_the_change_is_audited_before_and_after(desk):
    changed = pg.edit_provider(desk.db, desk.principal("gadmin"), provider_id=desk.provider["p2"],
                               details=NEW)
    assert set(changed) == {"name", "provider_type", "address", "city", "state", "postal_code",
                            "phone", "fax"}
    assert _provider(desk, desk.provider["p2"]).name == "Northside West"
    [event] = events(desk.db, "provider.changed")
    assert event.details["before"]["name"] == "Northside East"
    assert event.details["after"]["fax"] == "(512) 555-0101"
    # Saving the same details again changes and records nothing.
    assert pg.edit_provider(desk.db, desk.principal("gadmin"), provider_id=desk.provider["p2"],
                            details=NEW) == []
    assert len(events(desk.db, "provider.changed")) == 1


def test_a_provider_admin_edits_only_their_providers_contact_details(desk):
    admin_p1 = desk.principal("admin_p1")
    current = pg.view(desk.db, admin_p1, group_id=desk.group["north"]).providers[0].details
    contact = ProviderDetails(**{**current.__dict__, "phone": "(713) 555-0199", "fax": "(713) 555-0198"})
    assert pg.edit_provider(desk.db, admin_p1, provider_id=desk.provider["p1"],
                            details=contact) == ["phone", "fax"]
    renamed = ProviderDetails(**{**contact.__dict__, "name": "My Own Name"})
    before = _denials(desk)
    with pytest.raises(PermissionDenied):
        pg.edit_provider(desk.db, admin_p1, provider_id=desk.provider["p1"], details=renamed)
    assert _denials(desk) == before + 1
    assert _provider(desk, desk.provider["p1"]).name == "Northside Main"


# --- deactivating ------------------------------------------------------------------------------


def test_a_deactivated_provider_takes_no_uploads_but_keeps_its_reports_and_roles(desk):
    gadmin = desk.principal("gadmin")
    [first] = ingest(desk.db, gadmin, [upload(desk, "before.pdf", provider_npi=desk.npi["p2"])],
                     blob_store=desk.store)
    assert first.result == "posted"
    with pytest.raises(PermissionDenied):  # a provider admin does not deactivate
        pg.deactivate_provider(desk.db, desk.principal("admin_p1"), provider_id=desk.provider["p1"])
    pg.deactivate_provider(desk.db, gadmin, provider_id=desk.provider["p2"])
    choices = upload_choices(desk.db, gadmin)
    assert desk.npi["p2"] not in choices.providers and desk.npi["p1"] in choices.providers
    assert choices.deactivated == [f"Northside East ({desk.npi['p2']})"]  # the form says why
    [refused] = ingest(desk.db, gadmin, [upload(desk, "after.pdf", provider_npi=desk.npi["p2"])],
                       blob_store=desk.store)
    assert refused.result == "rejected"
    assert "deactivated" in refused.reason and "can no longer be posted" in refused.reason
    with desk.db.transaction(write=False) as session:
        assert session.scalar(select(Report.id).where(Report.provider_id == desk.provider["p2"])
                              .where(scope.visible(session, principals.load(
                                  session, session.get(User, desk.user["staff_p2"]))))
                              ) == first.report_id
        held = session.scalars(select(Membership.role).where(
            Membership.user_id == desk.user["staff_p2"])).all()
    assert held == ["provider_staff"]
    row = {p.id: p for p in pg.view(desk.db, gadmin, group_id=desk.group["north"]).providers}
    assert row[desk.provider["p2"]].status == "deactivated"
    with pytest.raises(InvalidInput, match="already deactivated"):
        pg.deactivate_provider(desk.db, gadmin, provider_id=desk.provider["p2"])
    with pytest.raises(InvalidInput, match="deactivated"):
        pg.add_to_provider(desk.db, gadmin, user_id=desk.user["staff_p1"],
                           provider_id=desk.provider["p2"])
    pg.reactivate_provider(desk.db, desk.principal("support"), provider_id=desk.provider["p2"])
    [again] = ingest(desk.db, gadmin, [upload(desk, "again.pdf", provider_npi=desk.npi["p2"])],
                     blob_store=desk.store)
    assert again.result == "posted"
    assert [e.action for e in events(desk.db) if e.action.startswith("provider.")] == [
        "provider.deactivated", "provider.reactivated"]


# --- moving ------------------------------------------------------------------------------------


def test_support_moves_a_provider_with_its_roles_and_the_old_group_admin_loses_it(desk):
    support = desk.principal("support")
    p2, north, south = desk.provider["p2"], desk.group["north"], desk.group["south"]
    with pytest.raises(InvalidInput, match="reason"):
        pg.move_provider(desk.db, support, provider_id=p2, to_group_id=south, reason=" ok ")
    with pytest.raises(InvalidInput, match="already in that group"):
        pg.move_provider(desk.db, support, provider_id=p2, to_group_id=north, reason="Sold to south")
    for who in ("gadmin", "gadmin_south", "admin_p1"):
        with pytest.raises(PermissionDenied):
            pg.move_provider(desk.db, desk.principal(who), provider_id=p2, to_group_id=south,
                             reason="Sold to the south group")
    moved = pg.move_provider(desk.db, support, provider_id=p2, to_group_id=south,
                             reason="Clinic sold to Southside on 1 Dec")
    assert moved == 2  # staff_p2 and both_groups' roles at p2
    assert _provider(desk, p2).group_id == south
    with desk.db.transaction(write=False) as session:
        at_p2 = session.scalars(select(Membership.group_id).where(Membership.provider_id == p2)).all()
        others = session.execute(select(Membership.group_id, Membership.provider_id).where(
            Membership.user_id == desk.user["both_groups"])).all()
    assert at_p2 == [south, south]
    assert sorted(others) == [(south, p2), (south, desk.provider["p3"])]
    # The old group's admin no longer sees or manages it; the new group's admin does.
    assert [p.id for p in pg.view(desk.db, desk.principal("gadmin"), group_id=north).providers] == [
        desk.provider["p1"]]
    with pytest.raises(PermissionDenied):
        pg.deactivate_provider(desk.db, desk.principal("gadmin"), provider_id=p2)
    assert p2 in {p.id for p in pg.view(desk.db, desk.principal("gadmin_south"),
                                        group_id=south).providers}
    assert desk.npi["p2"] not in upload_choices(desk.db, desk.principal("gadmin")).providers
    [event] = events(desk.db, "provider.moved")
    assert event.details == {"from_group_id": north, "to_group_id": south,
                             "reason": "Clinic sold to Southside on 1 Dec", "roles_moved": 2}
    with desk.db.transaction(write=False) as session:
        [line] = audit_words.lines(session, [event])
    text = line.details()
    assert "From group: Northside Clinics" in text and "To group: Southside Clinics" in text
    assert "Reason: Clinic sold to Southside on 1 Dec" in text


# --- people ------------------------------------------------------------------------------------


def test_the_users_tab_lists_each_person_with_their_roles_in_the_group(desk):
    listed = {p.email: [(r.provider_name, r.role) for r in p.roles]
              for p in pg.people(desk.db, desk.principal("gadmin"), group_id=desk.group["north"])}
    assert listed["gadmin@x.test"] == [("", Role.PROVIDER_GROUP_ADMIN)]
    assert listed["staff_p1@x.test"] == [("Northside Main", Role.PROVIDER_STAFF)]
    assert listed["both_groups@x.test"] == [("Northside East", Role.PROVIDER_STAFF)]  # not south
    assert "staff_p3@x.test" not in listed and "gadmin_south@x.test" not in listed
    own = {p.email for p in pg.people(desk.db, desk.principal("admin_p1"), group_id=desk.group["north"])}
    assert own == {"admin_p1@x.test", "staff_p1@x.test"}


def test_a_group_admin_adds_a_person_of_the_group_to_another_provider_as_staff(desk):
    gadmin = desk.principal("gadmin")
    pg.add_to_provider(desk.db, gadmin, user_id=desk.user["staff_p1"], provider_id=desk.provider["p2"])
    with desk.db.transaction(write=False) as session:
        held = session.execute(select(Membership.provider_id, Membership.role).where(
            Membership.user_id == desk.user["staff_p1"])).all()
    assert sorted(held) == sorted([(desk.provider["p1"], "provider_staff"),
                                   (desk.provider["p2"], "provider_staff")])
    [event] = events(desk.db, "user.role_granted")
    assert event.details["changed"] == {"role": "provider_staff", "group_id": desk.group["north"],
                                        "provider_id": desk.provider["p2"]}
    with pytest.raises(InvalidInput, match="already has"):
        pg.add_to_provider(desk.db, gadmin, user_id=desk.user["staff_p1"],
                           provider_id=desk.provider["p2"])


def test_adding_people_follows_the_delegation_rules(desk):
    gadmin = desk.principal("gadmin")
    # A person who also belongs to another group is not wholly in the group admin's reach.
    with pytest.raises(PermissionDenied):
        pg.add_to_provider(desk.db, gadmin, user_id=desk.user["both_groups"],
                           provider_id=desk.provider["p1"])
    # A person of another group only: refused like an unknown person.
    for user_id in (desk.user["admin_p3"], 999_999):
        with pytest.raises(PermissionDenied):
            pg.add_to_provider(desk.db, gadmin, user_id=user_id, provider_id=desk.provider["p1"])
    # A provider admin gives roles only at their own provider.
    with pytest.raises(PermissionDenied):
        pg.add_to_provider(desk.db, desk.principal("admin_p1"), user_id=desk.user["staff_p1"],
                           provider_id=desk.provider["p2"])
    # Only the provider roles; a group admin role is not given here.
    with pytest.raises(InvalidInput, match="Provider staff or Provider admin"):
        pg.add_to_provider(desk.db, gadmin, user_id=desk.user["staff_p1"],
                           provider_id=desk.provider["p2"], role=Role.PROVIDER_GROUP_ADMIN)
    # Support may add anyone of the group, but only people of the group.
    support = desk.principal("support")
    with pytest.raises(InvalidInput, match="Only people of this provider group"):
        pg.add_to_provider(desk.db, support, user_id=desk.user["client"],
                           provider_id=desk.provider["p1"])
    pg.add_to_provider(desk.db, support, user_id=desk.user["both_groups"],
                       provider_id=desk.provider["p1"], role=Role.PROVIDER_ADMIN)
    with desk.db.transaction(write=False) as session:
        assert session.scalar(select(Membership.role).where(
            Membership.user_id == desk.user["both_groups"],
            Membership.provider_id == desk.provider["p1"])) == "provider_admin"
    assert not [e for e in events(desk.db, "user.role_granted")
                if e.actor_user_id != desk.user["support"]]


def test_every_action_written_here_has_words():
    from services import audit

    for action in ("provider_group.created", "provider.registered", "provider.changed",
                   "provider.moved", "provider.deactivated", "provider.reactivated"):
        assert audit.ACTIONS[action]


def test_audit_events_name_the_actor(desk):
    pg.deactivate_provider(desk.db, desk.principal("gadmin"), provider_id=desk.provider["p2"])
    with desk.db.transaction(write=False) as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "provider.deactivated")).one()
    assert (event.actor_email, event.target_id) == ("gadmin@x.test", str(desk.provider["p2"]))


def test_the_users_tab_offers_adding_only_people_the_viewer_may_add(desk):
    offered = {p.email for p in pg.people(desk.db, desk.principal("gadmin"), group_id=desk.group["north"])
               if p.addable}
    # Not the group admin (group-wide already), not a person who also belongs to another group.
    assert offered == {"admin_p1@x.test", "staff_p1@x.test", "staff_p2@x.test"}
    by_support = {p.email for p in pg.people(desk.db, desk.principal("support"),
                                             group_id=desk.group["north"]) if p.addable}
    assert by_support == offered | {"both_groups@x.test"}


def test_two_admins_adding_one_person_at_once_give_one_role(desk):
    results: list[str] = []
    start = threading.Barrier(2)

    def add(who):
        start.wait()
        try:
            pg.add_to_provider(desk.db, desk.principal(who), user_id=desk.user["staff_p1"],
                               provider_id=desk.provider["p2"])
            results.append("added")
        except InvalidInput as refused:
            results.append(str(refused))

    threads = [threading.Thread(target=add, args=(who,)) for who in ("gadmin", "support")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Refused by the check (one after the other) or by the unique index (truly at once).
    assert sorted(results)[1] == "added" and sorted(results)[0] in (
        "The user already has that role there.",
        "The user already has a role there; change it instead.")
    with desk.db.transaction(write=False) as session:
        assert len(session.scalars(select(Membership.id).where(
            Membership.user_id == desk.user["staff_p1"],
            Membership.provider_id == desk.provider["p2"])).all()) == 1
    assert len(events(desk.db, "user.role_granted")) == 1


def test_two_moves_of_one_provider_at_once_record_where_each_moved_it_from(desk, make_user):
    support = desk.principal("support")
    with desk.db.transaction() as session:
        third = ProviderGroup(name="Eastside Clinics", npi=npi_number(3), created_at=START)
        session.add(third)
        session.flush()
        east = third.id
    start = threading.Barrier(2)

    def move(to_group_id):
        start.wait()
        pg.move_provider(desk.db, support, provider_id=desk.provider["p2"],
                         to_group_id=to_group_id, reason="Reorganised by region")

    threads = [threading.Thread(target=move, args=(g,)) for g in (desk.group["south"], east)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moves = [(e.details["from_group_id"], e.details["to_group_id"])
             for e in events(desk.db, "provider.moved")]
    assert len(moves) == 2 and moves[0][0] == desk.group["north"]
    assert moves[1][0] == moves[0][1]  # the second move starts where the first ended
    final = _provider(desk, desk.provider["p2"]).group_id
    assert final == moves[1][1]
    with desk.db.transaction(write=False) as session:
        assert set(session.scalars(select(Membership.group_id).where(
            Membership.provider_id == desk.provider["p2"]))) == {final}
