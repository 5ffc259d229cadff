"""Sign-in failures per client address: at the limit every sign-in from it is refused a while."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import AuditEvent, User
from services.errors import SignInFailed, SignInLimited
from services.identity import auth, sign_in_limits
from tests.conftest import PASSWORD


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setenv("RESULTSDESK_ADDRESS_FAILURES", "3")


def _sign_in(db, email, password=PASSWORD, address="203.0.113.7"):
    return auth.sign_in(db, email=email, password=password, client_address=address)


def test_an_address_at_its_limit_is_refused_even_the_right_password(db, make_user, fake_clock, limit_of_three):
    for n in range(3):
        make_user(f"u{n}@x.test")
    for n in range(3):  # one guess at each of three accounts: no account locks
        with pytest.raises(SignInFailed) as failed:
            _sign_in(db, f"u{n}@x.test", "wrong-password")
        assert not isinstance(failed.value, SignInLimited)

    with pytest.raises(SignInLimited) as limited:
        _sign_in(db, "u0@x.test")
    assert str(limited.value).startswith(SignInFailed.MESSAGE)
    assert "too many attempts from this network" in str(limited.value)
    _sign_in(db, "u0@x.test", address="198.51.100.9")  # another network is not affected

    with db.transaction(write=False) as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in.address_limited")).all()
        statuses = set(session.scalars(select(User.status)))
    assert event.details == {"client_address": "203.0.113.7"} and event.outcome == "denied"
    assert statuses == {"active"}  # the per-account lockout is untouched

    fake_clock.advance(minutes=10)
    _sign_in(db, "u0@x.test")  # the failures have aged out of the window


def test_without_an_address_only_the_account_lockout_applies(db, make_user, fake_clock, limit_of_three):
    make_user("a@x.test")
    for _ in range(2):
        with pytest.raises(SignInFailed):
            auth.sign_in(db, email="a@x.test", password="wrong-password")
    auth.sign_in(db, email="a@x.test", password=PASSWORD)


def test_the_peer_address_counts_unless_a_proxy_header_is_trusted(monkeypatch):
    spoofed = ["6.6.6.6, 192.0.2.10"]
    assert sign_in_limits.client_address(peer="192.0.2.99", forwarded=spoofed) == "192.0.2.99"
    assert sign_in_limits.client_address(peer=None, forwarded=[]) == "local"

    monkeypatch.setenv("RESULTSDESK_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    # One proxy of ours appended the real client; what the client wrote to the left is ignored.
    assert sign_in_limits.client_address(peer="10.0.0.2", forwarded=spoofed) == "192.0.2.10"
    monkeypatch.setenv("RESULTSDESK_TRUSTED_PROXIES", "2")
    assert sign_in_limits.client_address(peer="10.0.0.2", forwarded=["6.6.6.6", "192.0.2.10, 10.0.0.1"]) == "192.0.2.10"
    assert sign_in_limits.client_address(peer="10.0.0.2", forwarded=["10.0.0.1"]) == "10.0.0.2"
