"""Registering a provider group with an NPI and a code support issued (services/organizations/registration.py)."""

from __future__ import annotations

import hashlib
import re
import threading

import pytest
from sqlalchemy import func, select

from db.models import (
    Account,
    AuditEvent,
    Base,
    Membership,
    Provider,
    ProviderGroup,
    RegistrationCode,
    User,
)
from services import clock, settings
from services.errors import InvalidInput, PermissionDenied
from services.identity import auth, password_policy, terms
from services.organizations import npi, registration
from services.policy import Role
from tests.conftest import principal_of

PASSWORD = "Harbor-Lights-2026"
NPI = "1234567893"  # a valid check digit
FACILITY = "Lakeside Occupational Health"
SUPPORT = "support@example.test"


def _npi(serial: int) -> str:
    first_nine = f"1{serial:08d}"
    return first_nine + npi.check_digit(first_nine)


@pytest.fixture
def support(db, make_user):
    make_user(SUPPORT, staff=("support_rep",))
    return principal_of(db, SUPPORT)


def _issue(db, principal, number=NPI, facility=FACILITY) -> registration.IssuedCode:
    return registration.issue_code(db, principal, npi_number=number, facility_name=facility)


def _register(db, code, *, number=NPI, email="first@clinic.example", password=PASSWORD,
              accept_terms=True, name="Fran First"):
    return registration.register(db, npi_number=number, code=code, email=email, name=name,
                                 phone="555-0100", password=password, accept_terms=accept_terms)


def _refused(db, code, **kwargs) -> str:
    with pytest.raises(InvalidInput) as refused:
        _register(db, code, **kwargs)
    return str(refused.value)


def _everything(db) -> str:
    """Every value in every table, as one text to search."""
    with db.transaction(write=False) as session:
        return "\n".join(repr(tuple(row)) for table in Base.metadata.sorted_tables
                         for row in session.execute(select(table)).all())


def _counts(db) -> dict[str, int]:
    with db.transaction(write=False) as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def _events(db, action):
    with db.transaction(write=False) as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()


def _states(db, principal) -> dict[int, str]:
    return {row.id: row.state for row in registration.list_codes(db, principal)}


def test_the_npis_used_here_are_valid():
    assert npi.is_valid(NPI) and all(npi.is_valid(_npi(n)) for n in range(1, 60))


def test_support_issues_a_code_shown_once_and_stored_only_as_a_hash(db, support, fake_clock):
    issued = _issue(db, support)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}", issued.code)
    assert len(registration._ALPHABET) ** 16 >= 2 ** 60 and not set("01OI") & set(registration._ALPHABET)
    assert issued.expires_at == clock.now() + settings.current().registration_code_lifetime
    with db.transaction(write=False) as session:
        [stored] = session.scalars(select(RegistrationCode)).all()
    normalised = issued.code.replace("-", "")
    assert stored.code_hash == hashlib.sha256(normalised.encode()).hexdigest()
    assert (stored.npi, stored.facility_name, stored.used_at, stored.group_id) == (NPI, FACILITY, None, None)
    everything = _everything(db)
    assert issued.code not in everything and normalised not in everything
    assert issued.code.lower() not in everything.lower() and normalised.lower() not in everything.lower()
    [event] = _events(db, "registration_code.issued")
    assert (event.actor_email, event.target_type, event.target_id) == (SUPPORT, "npi", NPI)
    assert [row.state for row in registration.list_codes(db, support)] == ["pending"]
    [row] = registration.list_codes(db, support)
    assert (row.npi, row.facility_name, row.issued_by, row.used_at) == (NPI, FACILITY, SUPPORT, None)


def test_a_system_admin_issues_codes_too(db, make_user):
    make_user("root@example.test", staff=("system_admin",))
    assert _issue(db, principal_of(db, "root@example.test")).code


@pytest.mark.parametrize("who", ["account_rep", "manager", "privacy_officer", "provider_group_admin",
                                 "provider_admin", "account_admin", "account_user"])
def test_everyone_else_is_refused_and_the_refusal_is_audited(db, make_user, who):
    with db.transaction() as session:
        group = ProviderGroup(name="Northside", npi=_npi(50), created_at=clock.now())
        account = Account(name="Acme Freight", kind="employer", created_at=clock.now())
        session.add_all([group, account])
        session.flush()
        provider = Provider(group_id=group.id, name="Northside Main", npi=_npi(51))
        session.add(provider)
        session.flush()
        places = {"provider_group_admin": {"provider": ((group.id, None, who),)},
                  "provider_admin": {"provider": ((group.id, provider.id, who),)},
                  "account_admin": {"accounts": ((account.id, who),)},
                  "account_user": {"accounts": ((account.id, who),)}}
    make_user("other@example.test", **places.get(who, {"staff": (who,)}))
    other = principal_of(db, "other@example.test")
    with pytest.raises(PermissionDenied):
        _issue(db, other)
    with pytest.raises(PermissionDenied):
        registration.list_codes(db, other)
    with db.transaction(write=False) as session:
        assert session.scalars(select(RegistrationCode)).all() == []
    first, second = _events(db, "permission.denied")
    assert (first.actor_email, first.outcome, first.target_type, first.target_id, first.details) == (
        "other@example.test", "denied", "npi", NPI, {"action": "issue_registration_codes"})
    assert second.details == {"action": "issue_registration_codes"}


@pytest.mark.parametrize("bad", ["123456789", "1234567890", "12345678AB", "", "12345678931"])
def test_invalid_npis_are_refused(db, support, bad):
    with pytest.raises(InvalidInput, match="not a valid NPI"):
        _issue(db, support, number=bad)
    with pytest.raises(InvalidInput, match="not a valid NPI"):
        _register(db, "AAAA-BBBB-CCCC-DDDD", number=bad)
    assert _events(db, "registration.failed") == []


@pytest.mark.parametrize("facility", ["", " X ", "x" * 201])
def test_the_facility_needs_a_name(db, support, facility):
    with pytest.raises(InvalidInput, match="facility's name"):
        _issue(db, support, facility=facility)


def test_no_code_for_an_npi_a_group_or_provider_already_has(db, support):
    with db.transaction() as session:
        group = ProviderGroup(name="Northside", npi=_npi(50), created_at=clock.now())
        session.add(group)
        session.flush()
        session.add(Provider(group_id=group.id, name="Northside Main", npi=_npi(51)))
    with pytest.raises(InvalidInput, match="already registered"):
        _issue(db, support, number=_npi(50))
    with pytest.raises(InvalidInput, match="already registered as a provider of Northside"):
        _issue(db, support, number=_npi(51))


def test_the_first_person_registers_the_group_and_becomes_its_admin(db, support, fake_clock):
    issued = _issue(db, support)
    fake_clock.advance(days=29)
    user_id = _register(db, issued.code.lower().replace("-", " "), email=" Fran.First@Clinic.example ")
    with db.transaction(write=False) as session:
        group = session.scalar(select(ProviderGroup).where(ProviderGroup.npi == NPI))
        [provider] = session.scalars(select(Provider).where(Provider.group_id == group.id)).all()
        [membership] = session.scalars(select(Membership).where(Membership.user_id == user_id)).all()
        user = session.get(User, user_id)
        code = session.get(RegistrationCode, issued.id)
    assert (group.name, provider.name, provider.npi, provider.address) == (FACILITY, FACILITY, NPI, "")
    assert (membership.group_id, membership.provider_id, membership.role) == (
        group.id, None, Role.PROVIDER_GROUP_ADMIN)
    assert (user.email, user.name, user.phone, user.status) == (
        "fran.first@clinic.example", "Fran First", "555-0100", "active")
    assert (user.terms_accepted_at, user.terms_version) == (clock.now(), terms.current_version(db))
    assert (code.used_at, code.group_id) == (clock.now(), group.id)
    [event] = _events(db, "provider_group.registered")
    assert (event.actor_user_id, event.actor_email, event.target_type, event.target_id) == (
        user_id, "fran.first@clinic.example", "provider_group", str(group.id))
    assert _states(db, support) == {issued.id: "used"}
    everything = _everything(db)
    assert issued.code not in everything and PASSWORD not in everything

    signed_in = auth.sign_in(db, email="fran.first@clinic.example", password=PASSWORD)
    assert signed_in.principal.administered_groups == {group.id}
    assert signed_in.principal.roles == {Role.PROVIDER_GROUP_ADMIN}
    with pytest.raises(InvalidInput, match="already registered"):
        _issue(db, support)


def test_every_kind_of_wrong_code_gets_one_message(db, support, fake_clock):
    superseded = _issue(db, support)
    current = _issue(db, support)
    other = _issue(db, support, number=_npi(2), facility="Hillside Clinic")
    used = _issue(db, support, number=_npi(3), facility="Riverside Clinic")
    _register(db, used.code, number=_npi(3), email="river@clinic.example")
    assert _states(db, support) == {superseded.id: "superseded", current.id: "pending",
                                    other.id: "pending", used.id: "used"}
    messages = [
        _refused(db, "AAAA-BBBB-CCCC-DDDD"),                                   # unknown code
        _refused(db, current.code, number=_npi(2)),                            # another NPI's code
        _refused(db, other.code),                                              # ... both ways
        _refused(db, used.code, number=_npi(3), email="again@clinic.example"),  # used
        _refused(db, superseded.code),                                         # superseded
    ]
    fake_clock.advance(days=30, seconds=1)
    messages.append(_refused(db, current.code))                                # expired
    assert messages == [registration.NO_MATCH] * 6
    assert _states(db, support)[current.id] == "expired"
    failed = _events(db, "registration.failed")
    assert [(e.outcome, e.target_type, e.details) for e in failed] == [
        ("failure", "npi", {"reason": "no_matching_code"})] * 6
    assert [e.target_id for e in failed] == [NPI, _npi(2), NPI, _npi(3), NPI, NPI]
    everything = _everything(db)
    assert all(c.code not in everything for c in (superseded, current, other, used))
    assert "AAAA" not in everything and PASSWORD not in everything
    with db.transaction(write=False) as session:
        assert session.scalars(select(ProviderGroup.npi)).all() == [_npi(3)]


def test_after_five_failures_an_npi_waits_15_minutes_even_with_the_right_code(db, support, fake_clock):
    code = _issue(db, support).code
    elsewhere = _issue(db, support, number=_npi(2), facility="Hillside Clinic").code
    for _ in range(registration.ATTEMPTS_ALLOWED):
        assert _refused(db, "WRNG-WRNG-WRNG-WRNG") == registration.NO_MATCH
    assert _refused(db, code) == registration.TOO_MANY == "Too many attempts; try again in 15 minutes."
    throttled = _events(db, "registration.failed")[-1]
    assert (throttled.outcome, throttled.target_id, throttled.details) == (
        "denied", NPI, {"reason": "too_many_attempts"})
    assert _register(db, elsewhere, number=_npi(2), email="hill@clinic.example")  # other NPIs go on
    # Refusals do not count: retrying does not push the wait further out.
    fake_clock.advance(minutes=10)
    assert _refused(db, code) == registration.TOO_MANY
    fake_clock.advance(minutes=4, seconds=59)
    assert _refused(db, code) == registration.TOO_MANY
    fake_clock.advance(seconds=2)
    assert _register(db, code)
    with db.transaction(write=False) as session:
        assert session.scalar(select(ProviderGroup.name).where(ProviderGroup.npi == NPI)) == FACILITY


def test_failures_across_many_npis_stop_every_registration_for_a_while(db, support, fake_clock,
                                                                        monkeypatch):
    monkeypatch.setattr(registration, "GLOBAL_FAILURES_ALLOWED", 3)
    code = _issue(db, support).code
    for serial in (11, 12, 13):
        assert _refused(db, "WRNG-WRNG-WRNG-WRNG", number=_npi(serial)) == registration.NO_MATCH
    assert _refused(db, code) == registration.TOO_MANY
    fake_clock.advance(minutes=15, seconds=1)
    assert _register(db, code)


def test_nothing_is_written_for_a_form_that_is_not_complete(db, support, fake_clock):
    code = _issue(db, support).code
    before = _counts(db)
    assert _refused(db, code, accept_terms=False) == "Please read and accept the terms of use."
    assert _refused(db, code, password="password") == " ".join(password_policy.problems(
        "password", email="first@clinic.example", name="Fran First"))
    assert "a number" in _refused(db, code, password="harbor-lights-two")
    assert "name" in _refused(db, code, password="Fran-First-2026!x")
    for email in ("not an address", "first@clinic", "@clinic.example", ""):
        assert "email address" in _refused(db, code, email=email)
    assert "your name" in _refused(db, code, name="  ")
    assert _counts(db) == before  # no group, user, audit event; the code is still unused
    assert _register(db, code)


def test_an_email_with_an_account_is_told_so_only_with_a_valid_code(db, support, make_user, fake_clock):
    make_user("taken@clinic.example")
    issued = _issue(db, support)
    assert _refused(db, "WRNG-WRNG-WRNG-WRNG", email="Taken@clinic.example") == registration.NO_MATCH
    assert _refused(db, issued.code, email="Taken@clinic.example") == registration.EMAIL_TAKEN
    assert registration.EMAIL_TAKEN.startswith("An account with this email already exists")
    refused = _events(db, "registration.failed")[-1]
    assert (refused.outcome, refused.details) == ("denied", {"reason": "email_in_use"})
    assert _states(db, support) == {issued.id: "pending"}
    assert _register(db, issued.code, email="new@clinic.example")


def test_a_new_code_replaces_the_old_one(db, support):
    old = _issue(db, support)
    new = _issue(db, support)
    assert _events(db, "registration_code.issued")[-1].details == {"code_id": new.id, "superseded": 1}
    assert _refused(db, old.code) == registration.NO_MATCH
    assert _register(db, new.code)


def test_two_registrations_racing_with_one_code_make_one_group(db, support, fake_clock):
    code = _issue(db, support).code
    results, start = [], threading.Barrier(2)

    def attempt(email):
        start.wait()
        try:
            results.append(_register(db, code, email=email))
        except InvalidInput as refused:
            results.append(str(refused))

    threads = [threading.Thread(target=attempt, args=(f"p{i}@clinic.example",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and sum(isinstance(r, int) for r in results) == 1
    assert registration.NO_MATCH in results
    with db.transaction(write=False) as session:
        assert len(session.scalars(select(ProviderGroup)).all()) == 1
        assert len(session.scalars(select(Provider)).all()) == 1
        assert session.scalar(select(func.count()).select_from(User).where(
            User.email.like("p%@clinic.example"))) == 1
        assert len(session.scalars(select(Membership)).all()) == 1
