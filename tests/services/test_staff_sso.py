"""Staff sign-in through the identity provider, as staff and an attacker see it: a fresh answer
for a verified staff email opens one session; every other answer gets the same refusal,
audited; the provider's identity kept from earlier never opens another session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import AuditEvent, LoginSession, StaffRole, User
from services import principals
from services.errors import SessionEnded, StaffSignInRefused
from services.identity import sessions, staff_sso
from tests.conftest import START

ISSUER = "https://login.company.test"


def _claims(email="support@company.test", *, verified=True, issued=START, nonce="n-1", **more) -> dict:
    """What st.user holds after the provider sent the browser back (ID token claims)."""
    return {"is_logged_in": True, "provider": "default", "iss": ISSUER, "sub": f"idp-{email}",
            "aud": "resultsdesk", "iat": int(issued.timestamp()), "exp": int((issued + timedelta(hours=1)).timestamp()),
            "nonce": nonce, "email": email, "email_verified": verified, **more}


def _sign_in_events(db) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id)))


def _open_sessions(db) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.ended_at.is_(None)))


def _refusal(db, claims) -> str:
    with pytest.raises(StaffSignInRefused) as refused:
        staff_sso.sign_in(db, claims=claims)
    return str(refused.value)


def test_a_fresh_answer_for_a_verified_staff_email_opens_a_resultsdesk_session(db, make_user, fake_clock):
    make_user("support@company.test", name="Sam Sutton", staff=("support_rep",))
    fake_clock.advance(seconds=3)  # the browser comes straight back from the provider
    signed_in = staff_sso.sign_in(db, claims=_claims("Support@Company.test"))
    assert signed_in.principal.email == "support@company.test"
    assert {role.value for role in signed_in.principal.roles} == {"support_rep"}
    assert sessions.resume(db, signed_in.token).user_id == signed_in.principal.user_id
    assert signed_in.handoff_code  # the browser collects its cookie as after a password sign-in
    [event] = _sign_in_events(db)
    assert (event.outcome, event.actor_email) == ("success", "support@company.test")
    # The trail says how, and holds nothing from the token beyond the issuer.
    assert event.details == {"method": "identity_provider", "issuer": ISSUER}
    with db.transaction(write=False) as session:
        user = session.scalars(select(User).where(User.email == "support@company.test")).one()
        assert user.last_login_at == START + timedelta(seconds=3)


def test_one_answer_opens_one_session_and_the_kept_identity_never_opens_another(db, make_user, fake_clock):
    make_user("support@company.test", staff=("support_rep",))
    claims = _claims()
    first = staff_sso.sign_in(db, claims=claims)
    # The same claims come again on every run and every new tab while Streamlit's cookie lives.
    assert staff_sso.sign_in(db, claims=claims) is None
    # Signing out (or a timeout, or sign-out everywhere) ends the session; the cookie opens nothing.
    sessions.end(db, first.token)
    with pytest.raises(SessionEnded):
        sessions.resume(db, first.token)
    fake_clock.advance(seconds=30)
    assert staff_sso.sign_in(db, claims=claims) is None
    assert _open_sessions(db) == 0
    assert len(_sign_in_events(db)) == 1
    # A new press of Staff sign-in brings a new answer (new nonce, new issue time): that one works.
    again = staff_sso.sign_in(db, claims=_claims(issued=fake_clock.now(), nonce="n-2"))
    assert sessions.resume(db, again.token).email == "support@company.test"


def test_an_answer_older_than_a_few_minutes_or_from_the_future_opens_nothing(db, make_user, fake_clock):
    make_user("support@company.test", staff=("support_rep",))
    fake_clock.advance(minutes=6)
    assert staff_sso.sign_in(db, claims=_claims()) is None
    assert staff_sso.sign_in(db, claims=_claims(issued=START + timedelta(minutes=10), nonce="n-2")) is None
    assert staff_sso.sign_in(db, claims=_claims(issued=START, nonce="n-3") | {"iat": "soon"}) is None
    assert _open_sessions(db) == 0
    assert _sign_in_events(db) == []
    # Within the window, a little clock difference with the provider is fine.
    assert staff_sso.sign_in(db, claims=_claims(issued=START + timedelta(minutes=7), nonce="n-4")) is not None


def test_every_refusal_reads_the_same_and_is_audited_with_its_reason(db, make_user, fake_clock):
    make_user("support@company.test", staff=("support_rep",))
    make_user("privacy@company.test", staff=("privacy_officer",))
    make_user("employer@client.test", accounts=())
    make_user("gone@company.test", status="deactivated", staff=("manager",))
    make_user("invited@company.test", status="invited", staff=("manager",))
    locked = make_user("locked@company.test", staff=("manager",))
    with db.transaction() as session:
        session.get(User, locked).status = "locked"
        session.get(User, locked).locked_until = START + timedelta(minutes=15)
    answers = {
        "unknown_user": _claims("stranger@elsewhere.test", nonce="a"),
        "email_not_verified": _claims("privacy@company.test", verified=False, nonce="b"),
        "no_staff_role": _claims("employer@client.test", nonce="c"),
        "deactivated": _claims("gone@company.test", nonce="d"),
        "invited": _claims("invited@company.test", nonce="e"),
        "locked": _claims("locked@company.test", nonce="f"),
        "no_email": _claims("", nonce="g"),
    }
    missing_claim = _claims("support@company.test", nonce="h")
    del missing_claim["email_verified"]
    messages = {_refusal(db, claims) for claims in answers.values()}
    messages |= {_refusal(db, missing_claim), _refusal(db, _claims("support@company.test", verified="false", nonce="i"))}
    assert messages == {StaffSignInRefused.MESSAGE}
    assert _open_sessions(db) == 0
    events = _sign_in_events(db)
    assert [event.details["reason"] for event in events] == [*answers, "email_not_verified", "email_not_verified"]
    assert {event.outcome for event in events} == {"failure"}
    by_reason = {event.details["reason"]: event for event in events}
    # Only a verified address names an account in the trail.
    assert by_reason["unknown_user"].actor_email is None
    assert by_reason["email_not_verified"].actor_email is None
    assert by_reason["no_staff_role"].actor_email == "employer@client.test"
    for event in events:
        assert set(event.details) == {"method", "issuer", "reason"}
    # A refused answer is used up too: the same claims on the next run are not audited again.
    assert staff_sso.sign_in(db, claims=answers["unknown_user"]) is None
    assert len(_sign_in_events(db)) == len(events)


def test_roles_come_from_resultsdesk_never_from_the_provider(db, make_user, fake_clock):
    make_user("employer@client.test")
    make_user("support@company.test", staff=("support_rep",))
    claiming = {"roles": ["system_admin"], "groups": ["ResultsDesk Admins"]}
    _refusal(db, _claims("employer@client.test", nonce="a", **claiming))
    signed_in = staff_sso.sign_in(db, claims=_claims("support@company.test", nonce="b", **claiming))
    assert {role.value for role in signed_in.principal.roles} == {"support_rep"}
    with db.transaction(write=False) as session:
        assert sorted(session.scalars(select(StaffRole.role))) == ["support_rep"]


def test_a_lock_whose_period_has_passed_ends_and_the_staff_member_signs_in(db, make_user, fake_clock):
    locked = make_user("support@company.test", staff=("support_rep",))
    with db.transaction() as session:
        session.get(User, locked).status = "locked"
        session.get(User, locked).locked_until = START - timedelta(minutes=1)
    signed_in = staff_sso.sign_in(db, claims=_claims(verified="true"))
    assert signed_in.principal.email == "support@company.test"
    with db.transaction(write=False) as session:
        assert session.get(User, locked).status == "active"
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "user.unlocked")) == 1


def test_a_deactivated_staff_members_session_from_the_provider_ends_like_any_other(db, make_user, fake_clock):
    from services.identity import users

    make_user("admin@company.test", staff=("system_admin",))
    staff = make_user("support@company.test", staff=("support_rep",))
    signed_in = staff_sso.sign_in(db, claims=_claims())
    with db.transaction(write=False) as session:
        admin = principals.load(session, session.scalars(select(User).where(User.email == "admin@company.test")).one())
    users.deactivate(db, admin, user_id=staff)
    with pytest.raises(SessionEnded):
        sessions.resume(db, signed_in.token)
    assert _refusal(db, _claims(issued=fake_clock.now(), nonce="n-2")) == StaffSignInRefused.MESSAGE


def test_entra_ids_verified_domain_claim_stands_for_email_verified_only_when_that_is_absent(
        db, make_user, fake_clock):
    """Microsoft Entra ID sends no email_verified for work accounts; its optional xms_edov says
    the address's domain belongs to the tenant."""
    make_user("support@company.test", staff=("support_rep",))
    entra = _claims(nonce="x1", xms_edov=True)
    del entra["email_verified"]
    assert staff_sso.sign_in(db, claims=entra).principal.email == "support@company.test"
    unverified_domain = _claims(nonce="x2", xms_edov=False)
    del unverified_domain["email_verified"]
    assert _refusal(db, unverified_domain) == StaffSignInRefused.MESSAGE
    # A provider that says the address is not verified is believed, whatever else it sends.
    assert _refusal(db, _claims(nonce="x3", verified=False, xms_edov=True)) == StaffSignInRefused.MESSAGE
