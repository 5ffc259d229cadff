"""Moving people from streamlit-authenticator: their passwords keep working here, the mapping says
which role each gets, and a file with any problem writes nothing at all (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from streamlit_authenticator.utilities.hasher import Hasher

from db.models import Account, AuditEvent, Provider, ProviderGroup, User
from services import clock
from services.errors import InvalidInput, PermissionDenied
from services.identity import auth, memberships, terms, user_import
from services.identity.user_import import (NEW, NOT_A_HASH, PRESENT, REFUSED, RoleMapping, import_users,
                                           is_bcrypt_hash, mapping_from)
from services.policy import Grant, Role
from tests.conftest import PASSWORD, principal_of

THEIR_PASSWORD = "Sunset-Boulevard-42"
CLEAR_TEXT = "Winter-Garden-2025"
VIEWERS = RoleMapping({"viewer": "account_user: Acme Freight"})


@pytest.fixture(scope="module")
def their_hash() -> str:
    """A hash written by streamlit-authenticator's own Hasher, as its config.yaml holds them."""
    return Hasher.hash(THEIR_PASSWORD)


@pytest.fixture
def places(db, make_user):
    """Acme Freight (a client account), a clinic group with one provider, and a system admin."""
    with db.transaction() as session:
        acme = Account(name="Acme Freight", kind="employer", created_at=clock.now())
        group = ProviderGroup(name="Sunbelt Clinics", npi="1234567893", created_at=clock.now())
        session.add_all([acme, group])
        session.flush()
        provider = Provider(group_id=group.id, name="Sunbelt North", npi="1987654321")
        session.add(provider)
        session.flush()
        ids = {"acme": acme.id, "group": group.id, "provider": provider.id}
    make_user("root@portal.example", name="Root Admin", staff=("system_admin",))
    make_user("ada@acme.example", name="Ada Admin", accounts=((ids["acme"], "account_admin"),))
    return ids


def _config(**people) -> dict:
    return {"cookie": {"name": "c", "key": "k", "expiry_days": 30},
            "credentials": {"usernames": people}}


def _person(email: str, password: str, *, roles=("viewer",), **fields) -> dict:
    return {"email": email, "first_name": "Jo", "last_name": "Smith", "password": password,
            "roles": list(roles), "failed_login_attempts": 2, "logged_in": True, **fields}


def _import(db, config, mapping=VIEWERS, *, dry_run=False, operator="root@portal.example"):
    return import_users(db, principal_of(db, operator), config=config, mapping=mapping,
                        dry_run=dry_run)


def _counts(db) -> tuple[int, int]:
    with db.transaction(write=False) as session:
        return (session.scalar(select(func.count()).select_from(User)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


def _user(db, email: str) -> User | None:
    with db.transaction(write=False) as session:
        return session.scalar(select(User).where(User.email == email))


def _grants(db, email: str) -> list[Grant]:
    with db.transaction(write=False) as session:
        return memberships.grants_of(session, session.scalar(select(User.id).where(User.email == email)))


def test_a_hasher_password_imports_and_signs_in_as_it_was(db, places, their_hash):
    report = _import(db, _config(jsmith=_person("JSmith@Acme.example", their_hash)))
    assert report.valid and report.written
    [person] = report.people
    assert (person.username, person.email, person.result) == ("jsmith", "jsmith@acme.example", NEW)
    assert person.roles == ("Client account user: Acme Freight",)
    user = _user(db, "jsmith@acme.example")
    assert user.password_hash == their_hash and user.name == "Jo Smith"
    assert (user.status, user.failed_attempts, user.terms_version) == ("active", 0, None)
    assert _grants(db, "jsmith@acme.example") == [Grant(Role.ACCOUNT_USER, account_id=places["acme"])]

    with pytest.raises(auth.SignInFailed):
        auth.sign_in(db, email="jsmith@acme.example", password=THEIR_PASSWORD.lower())
    signed_in = auth.sign_in(db, email="JSmith@acme.example", password=THEIR_PASSWORD)
    assert signed_in.principal.email == "jsmith@acme.example"
    assert [link.account_name for link in signed_in.principal.account_links] == ["Acme Freight"]
    # Like anyone new, they accept the terms of use before anything else.
    assert terms.needs_acceptance(db, signed_in.principal)

    with db.transaction(write=False) as session:
        [created] = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created"))
    assert (created.actor_email, created.target_id) == ("root@portal.example", str(user.id))
    assert created.details["via"].startswith("make import-users")
    assert created.details["new_roles"] == [{"role": "account_user", "account_id": places["acme"]}]
    assert "$2" not in json.dumps(created.details) and their_hash[7:] not in json.dumps(created.details)


def test_a_dry_run_says_what_would_happen_and_writes_nothing(db, places, their_hash):
    before = _counts(db)
    report = _import(db, _config(jsmith=_person("jsmith@acme.example", their_hash)), dry_run=True)
    assert report.valid and not report.written
    assert [(p.result, p.roles) for p in report.people] == [(NEW, ("Client account user: Acme Freight",))]
    assert _counts(db) == before and _user(db, "jsmith@acme.example") is None


def test_a_clear_text_password_is_refused_by_name_and_nobody_is_written(db, places, their_hash):
    before = _counts(db)
    report = _import(db, _config(good=_person("good@acme.example", their_hash),
                                 plain=_person("plain@acme.example", CLEAR_TEXT)))
    assert not report.valid and not report.written
    outcome = {p.username: p for p in report.people}
    assert outcome["good"].result == NEW
    assert (outcome["plain"].result, outcome["plain"].problems) == (REFUSED, (NOT_A_HASH,))
    assert CLEAR_TEXT not in repr(report)
    assert _counts(db) == before and _user(db, "good@acme.example") is None


@pytest.mark.parametrize("password", [CLEAR_TEXT, "", None, 123456, "$2b$12$short",
                                      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
                                      "$2x$12$" + "a" * 53, "$2b$99$" + "a" * 53])
def test_only_a_bcrypt_hash_counts_as_a_password(password):
    assert not is_bcrypt_hash(password)


def test_each_bcrypt_spelling_is_kept_and_signs_in(db, places, their_hash):
    people = {f"p{prefix}": _person(f"p{prefix}@acme.example", f"$2{prefix}" + their_hash[3:])
              for prefix in "aby"}
    assert _import(db, _config(**people)).written
    for prefix in "aby":
        assert _user(db, f"p{prefix}@acme.example").password_hash.startswith(f"$2{prefix}$12$")
        auth.sign_in(db, email=f"p{prefix}@acme.example", password=THEIR_PASSWORD)


def test_an_address_that_has_an_account_is_reported_and_left_alone(db, places, their_hash,
                                                                      password_hash):
    report = _import(db, _config(ada=_person("ADA@acme.example", their_hash, name="Someone Else"),
                                 jo=_person("jo@acme.example", their_hash)))
    assert report.written
    assert [(p.username, p.result, p.roles) for p in report.people] == [
        ("ada", PRESENT, ()), ("jo", NEW, ("Client account user: Acme Freight",))]
    ada = _user(db, "ada@acme.example")
    assert (ada.name, ada.password_hash) == ("Ada Admin", password_hash)
    assert _grants(db, "ada@acme.example") == [Grant(Role.ACCOUNT_ADMIN, account_id=places["acme"])]
    auth.sign_in(db, email="ada@acme.example", password=PASSWORD)
    with pytest.raises(auth.SignInFailed):
        auth.sign_in(db, email="ada@acme.example", password=THEIR_PASSWORD)


@pytest.mark.parametrize("spec, words", [
    ("account_usr: Acme Freight", "there is no ResultsDesk role 'account_usr'"),
    ("account_user: Acme Fraight", "there is no client account 'Acme Fraight'"),
    ("account_user", "account_user needs a place"),
    ("support_rep: Acme Freight", "support_rep is a staff role and applies everywhere"),
    ("provider_staff: 99999", "there is no provider '99999'"),
    ({"account_user": 9999}, "there is no client account '9999'"),
    (["account_user"], 'write it as "role" or "role: place"'),
])
def test_a_mapping_naming_an_unknown_role_or_place_is_refused_and_nothing_written(
        db, places, their_hash, spec, words):
    before = _counts(db)
    report = _import(db, _config(jo=_person("jo@acme.example", their_hash)), RoleMapping({"viewer": spec}))
    assert not report.written
    [problem] = report.problems
    assert problem.startswith("The role 'viewer': ") and words in problem
    assert _counts(db) == before


def test_a_role_the_mapping_does_not_name_is_refused(db, places, their_hash):
    report = _import(db, _config(jo=_person("jo@acme.example", their_hash, roles=("viewer", "editor"))),
                     RoleMapping({"viewer": "account_user: Acme Freight"}, default="account_user: Acme Freight"))
    assert not report.written
    assert report.people[0].problems == (
        "its role 'editor' is not mapped: add --role editor=<ResultsDesk role> (or editor=none)",)
    assert _user(db, "jo@acme.example") is None


def test_the_same_address_twice_in_the_file_is_refused(db, places, their_hash):
    before = _counts(db)
    report = _import(db, _config(jo=_person("jo@acme.example", their_hash),
                                 jo2=_person(" Jo@ACME.example ", their_hash),
                                 kim=_person("kim@acme.example", their_hash)))
    assert not report.written
    outcome = {p.username: p for p in report.people}
    assert outcome["jo"].problems == ("it has the same email address as 'jo2'",)
    assert outcome["jo2"].problems == ("it has the same email address as 'jo'",)
    assert outcome["kim"].result == NEW
    assert _counts(db) == before


def test_bad_addresses_missing_names_and_other_files_are_refused(db, places, their_hash):
    report = _import(db, _config(a=_person("not-an-address", their_hash),
                                 b={"password": their_hash, "name": "No Email"},
                                 c=_person("c@acme.example", their_hash, first_name=" ", last_name=None),
                                 d="just text"))
    problems = {p.username: p.problems for p in report.people}
    assert problems == {"a": ("'not-an-address' is not a valid email address",),
                        "b": ("it has no email address (people sign in here with their email address)",),
                        "c": ("it has no name (name, or first_name and last_name)",),
                        "d": ("its entry has no fields (email, name, password)",)}
    assert not report.written and _user(db, "c@acme.example") is None
    for other in ({"cookie": {}}, [], None, _config()):
        report = _import(db, other)
        assert not report.valid and report.people == () and len(report.problems) == 1


def test_roles_map_to_providers_groups_and_staff_and_one_role_per_place(db, places, their_hash):
    mapping = mapping_from({"roles": {"admin": {"account_admin": "Acme Freight"},
                                      "viewer": "account_user: Acme Freight",
                                      "clinic": "provider_staff: 1987654321",
                                      "lead": f"provider_group_admin: {places['group']}",
                                      "helpdesk": "support_rep", "ignored": "none"}})
    report = _import(db, _config(
        boss=_person("boss@acme.example", their_hash, roles=("admin", "viewer", "ignored")),
        nurse=_person("nurse@sunbelt.example", their_hash, roles=("clinic", "lead")),
        desk=_person("desk@portal.example", their_hash, roles=("helpdesk",)),
        nobody=_person("nobody@acme.example", their_hash, roles=("ignored",))), mapping)
    assert report.people[3].problems == (
        "it would get no ResultsDesk role: map its roles, or give a default role",)
    report = _import(db, _config(
        boss=_person("boss@acme.example", their_hash, roles=("admin", "viewer", "ignored")),
        nurse=_person("nurse@sunbelt.example", their_hash, roles=("clinic", "lead")),
        desk=_person("desk@portal.example", their_hash, roles=("helpdesk",)),
        nobody=_person("nobody@acme.example", their_hash, roles=())),
        RoleMapping(mapping.roles, default="account_user: Acme Freight"))
    assert report.written
    # An admin of Acme who is also its user holds the admin role there (one role per place).
    assert _grants(db, "boss@acme.example") == [Grant(Role.ACCOUNT_ADMIN, account_id=places["acme"])]
    assert set(_grants(db, "nurse@sunbelt.example")) == {
        Grant(Role.PROVIDER_GROUP_ADMIN, group_id=places["group"]),
        Grant(Role.PROVIDER_STAFF, group_id=places["group"], provider_id=places["provider"])}
    assert _grants(db, "desk@portal.example") == [Grant(Role.SUPPORT_REP)]
    assert _grants(db, "nobody@acme.example") == [Grant(Role.ACCOUNT_USER, account_id=places["acme"])]


def test_an_operator_gives_only_roles_they_may_give(db, places, their_hash):
    mapping = RoleMapping({"viewer": "account_user: Acme Freight", "helpdesk": "support_rep"})
    before = _counts(db)[0]
    report = _import(db, _config(jo=_person("jo@acme.example", their_hash)), mapping,
                     operator="ada@acme.example")
    assert report.problems == ("The role 'helpdesk': ada@acme.example may not give Support representative.",)
    assert not report.written and _counts(db)[0] == before
    with db.transaction(write=False) as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.action == "permission.denied")).all()
    assert [event.actor_email for event in denied] == ["ada@acme.example"]
    # Within her own account she may: the import is hers, as the audit trail says.
    report = _import(db, _config(jo=_person("jo@acme.example", their_hash)),
                     RoleMapping({"viewer": "account_user: Acme Freight"}), operator="ada@acme.example")
    assert report.written


def test_a_mapping_file_of_another_shape_is_refused():
    for data in (["viewer"], {"role": {}}, {"roles": ["viewer"]}):
        with pytest.raises(InvalidInput, match='A mapping file has two parts'):
            mapping_from(data)
    assert mapping_from({"roles": None, "default": "account_user: A"}) == RoleMapping({}, "account_user: A")


def test_an_account_made_while_the_import_runs_stops_it_whole(db, places, their_hash, monkeypatch):
    before = _counts(db)
    # As if ada@ accepted an invitation between the check and the insert.
    monkeypatch.setattr(user_import, "_present", lambda session, emails: set())
    with pytest.raises(InvalidInput, match="got an account while the import ran"):
        _import(db, _config(jo=_person("jo@acme.example", their_hash),
                            ada=_person("ada@acme.example", their_hash)))
    assert _counts(db) == before and _user(db, "jo@acme.example") is None


def test_someone_who_may_not_manage_users_cannot_import(db, places, their_hash, make_user):
    make_user("kim@acme.example", accounts=((places["acme"], "account_user"),))
    with pytest.raises(PermissionDenied):
        _import(db, _config(jo=_person("jo@acme.example", their_hash)), operator="kim@acme.example")
    assert _user(db, "jo@acme.example") is None
    with db.transaction(write=False) as session:
        assert session.scalar(select(AuditEvent.actor_email).where(
            AuditEvent.action == "permission.denied")) == "kim@acme.example"
