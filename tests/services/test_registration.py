"""Registering a provider group with an NPI and a code support issued."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from db.models import AuditEvent, Membership, Provider, ProviderGroup, RegistrationCode, User
from services import auth, npi, principals, registration
from services.errors import InvalidInput, PermissionDenied
from services.policy import Role

PASSWORD = "Harbor-Lights-2026"
NPI = "1234567893"  # a valid check digit


def _support(db, make_user, email="support@example.test", staff=("support_rep",)):
    user_id = make_user(email, staff=staff)
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _register(db, code, *, npi_number=NPI, email="first@clinic.example", password=PASSWORD,
              accept_terms=True):
    return registration.register(db, npi_number=npi_number, code=code, email=email,
                                 name="Fran First", phone="555-0100", password=password,
                                 accept_terms=accept_terms)


def test_the_npi_used_here_is_valid():
    assert npi.is_valid(NPI)


def test_support_issues_a_code_and_the_first_person_becomes_group_admin(db, make_user, fake_clock):
    issued = registration.issue_code(db, _support(db, make_user), npi_number=NPI,
                                     facility_name="Lakeside Occupational Health")
    with db.transaction(write=False) as session:
        stored = session.scalars(select(RegistrationCode)).all()
    assert len(issued.code) == 19 and all(issued.code not in (c.code_hash, c.npi) for c in stored)
    user_id = _register(db, issued.code.lower().replace("-", " "))  # typed loosely
    with db.transaction(write=False) as session:
        group = session.scalar(select(ProviderGroup).where(ProviderGroup.npi == NPI))
        provider = session.scalar(select(Provider).where(Provider.group_id == group.id))
        membership = session.scalar(select(Membership).where(Membership.user_id == user_id))
        user = session.get(User, user_id)
    assert group.name == provider.name == "Lakeside Occupational Health"
    assert (membership.group_id, membership.provider_id, membership.role) == (
        group.id, None, Role.PROVIDER_GROUP_ADMIN)
    assert user.status == "active" and user.terms_version and user.terms_accepted_at
    signed_in = auth.sign_in(db, email="first@clinic.example", password=PASSWORD)
    assert signed_in.principal.administered_groups == {group.id}
    with pytest.raises(InvalidInput, match="already registered"):
        _register(db, issued.code, email="second@clinic.example")


@pytest.mark.parametrize("staff", [("account_rep",), ("manager",), ("privacy_officer",)])
def test_only_support_and_system_admins_issue_codes(db, make_user, staff):
    other = _support(db, make_user, email="other@example.test", staff=staff)
    with pytest.raises(PermissionDenied):
        registration.issue_code(db, other, npi_number=NPI, facility_name="Lakeside")
    with db.transaction(write=False) as session:
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.actor_email == "other@example.test")) == "permission.denied"


@pytest.mark.parametrize("bad", ["123456789", "1234567890", "12345678AB"])
def test_npis_are_checked(db, make_user, bad):
    with pytest.raises(InvalidInput, match="NPI"):
        registration.issue_code(db, _support(db, make_user), npi_number=bad, facility_name="Lakeside")


def test_every_kind_of_wrong_code_gets_one_message(db, make_user, fake_clock):
    support = _support(db, make_user)
    old = registration.issue_code(db, support, npi_number=NPI, facility_name="Lakeside").code
    current = registration.issue_code(db, support, npi_number=NPI, facility_name="Lakeside").code
    other_npi = "1245319599"
    assert npi.is_valid(other_npi)
    messages = set()
    for code, number in ((old, NPI), ("AAAA-BBBB-CCCC-DDDD", NPI), (current, other_npi)):
        with pytest.raises(InvalidInput) as refused:
            _register(db, code, npi_number=number)
        messages.add(str(refused.value))
    fake_clock.advance(days=30, seconds=1)
    with pytest.raises(InvalidInput) as expired:
        _register(db, current)
    messages.add(str(expired.value))
    assert messages == {registration.NO_MATCH}


def test_too_many_attempts_are_refused_even_with_the_right_code(db, make_user, fake_clock):
    code = registration.issue_code(db, _support(db, make_user), npi_number=NPI,
                                   facility_name="Lakeside").code
    for _ in range(registration.ATTEMPTS_ALLOWED):
        with pytest.raises(InvalidInput, match="do not match"):
            _register(db, "WRNG-WRNG-WRNG-WRNG")
    with pytest.raises(InvalidInput, match="Too many attempts"):
        _register(db, code)
    fake_clock.advance(minutes=15, seconds=1)
    assert _register(db, code)


def test_nothing_is_written_without_the_terms_or_with_a_weak_password(db, make_user, fake_clock):
    code = registration.issue_code(db, _support(db, make_user), npi_number=NPI,
                                   facility_name="Lakeside").code
    with pytest.raises(InvalidInput, match="terms of use"):
        _register(db, code, accept_terms=False)
    with pytest.raises(InvalidInput):
        _register(db, code, password="password")
    with db.transaction(write=False) as session:
        assert session.scalars(select(ProviderGroup)).all() == []
    assert _register(db, code)  # the code was never spent


def test_two_registrations_racing_with_one_code_make_one_group(db, make_user, fake_clock):
    code = registration.issue_code(db, _support(db, make_user), npi_number=NPI,
                                   facility_name="Lakeside").code
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
    assert sum(isinstance(r, int) for r in results) == 1
    with db.transaction(write=False) as session:
        assert len(session.scalars(select(ProviderGroup)).all()) == 1
