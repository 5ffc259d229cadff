"""Two-factor sign-in as a person and an attacker see it: enrolment at sign-in, codes that work
once, clock drift, the shared lockout, recovery codes, support's reset, My account's switch."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from db.models import AuditEvent, OutboxMessage, RecoveryCode, User
from services import settings
from services.errors import InvalidInput, PermissionDenied, SessionEnded
from services.identity import auth, sessions, support_tools, two_factor
from services.identity.two_factor import ChallengeEnded, SecondStep
from tests.conftest import PASSWORD, principal_of

ADMIN = "admin@clinic.test"


@pytest.fixture
def required_for_staff(monkeypatch):
    monkeypatch.setenv("RESULTSDESK_TWO_FACTOR_ROLES", "support_rep,system_admin")


def _user(db, email) -> User:
    with db.transaction(write=False) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def _events(db, action):
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


def _mail(db, subject_part):
    with db.transaction(write=False) as session:
        return [m for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if subject_part in m.subject]


def _code(secret, clock, *, steps=0):
    return pyotp.TOTP(secret).at(clock.current.timestamp() + 30 * steps)


def _enrol(db, fake_clock, email=ADMIN) -> tuple[str, list[str]]:
    """Sign in with the password, set up the app from the QR code's URI, keep the codes."""
    step = auth.sign_in(db, email=email, password=PASSWORD)
    assert isinstance(step, SecondStep) and step.step == "enrol"
    shown = auth.enrolment(db, challenge=step.challenge)
    assert shown.qr_png.startswith(b"\x89PNG")
    secret = parse_qs(urlsplit(shown.uri).query)["secret"][0]
    assert secret == shown.secret and "ResultsDesk" in shown.uri
    codes = auth.confirm_enrolment(db, challenge=step.challenge, code=_code(secret, fake_clock))
    signed_in = auth.enter_after_enrolment(db, challenge=step.challenge)
    assert sessions.resume(db, signed_in.token).email == email
    return secret, codes


def test_a_required_role_sets_up_the_app_before_any_session_opens(db, make_user, fake_clock,
                                                                   required_for_staff):
    make_user(ADMIN, staff=("support_rep",))
    step = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    assert isinstance(step, SecondStep) and step.step == "enrol"
    assert _events(db, "sign_in") == []  # not signed in yet: only the password was accepted
    # The enrolment step cannot be skipped to the end.
    with pytest.raises(ChallengeEnded):
        auth.enter_after_enrolment(db, challenge=step.challenge)
    with pytest.raises(ChallengeEnded):
        auth.finish_with_code(db, challenge=step.challenge, code="123456")
    secret = auth.enrolment(db, challenge=step.challenge).secret
    with pytest.raises(auth.SecondFactorFailed):
        auth.confirm_enrolment(db, challenge=step.challenge, code=_code(secret, fake_clock, steps=5))
    codes = auth.confirm_enrolment(db, challenge=step.challenge, code=_code(secret, fake_clock))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)
    with db.transaction(write=False) as session:
        stored = set(session.scalars(select(RecoveryCode.code_hash)))
    assert not stored & {code.replace("-", "") for code in codes}  # only hashes are kept
    signed_in = auth.enter_after_enrolment(db, challenge=step.challenge)
    assert sessions.resume(db, signed_in.token).email == ADMIN
    with pytest.raises(ChallengeEnded):  # the challenge opened one session only
        auth.enter_after_enrolment(db, challenge=step.challenge)
    [failure, success] = _events(db, "sign_in")
    assert failure.details == {"reason": "bad_code"}
    assert success.outcome == "success" and success.details == {"second_factor": "enrolled"}
    assert _user(db, ADMIN).failed_attempts == 0
    assert _mail(db, "account changed")


def test_a_code_works_once_and_one_step_of_drift_is_tolerated(db, make_user, fake_clock,
                                                             required_for_staff):
    make_user(ADMIN, staff=("support_rep",))
    secret, _ = _enrol(db, fake_clock)
    fake_clock.advance(minutes=5)

    step = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    assert step.step == "code"
    code = _code(secret, fake_clock, steps=-1)  # the phone runs 30 seconds behind
    assert auth.finish_with_code(db, challenge=step.challenge, code=code).principal.email == ADMIN

    # The same code again, within its window, from another sign-in: refused.
    again = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    with pytest.raises(auth.SecondFactorFailed) as replayed:
        auth.finish_with_code(db, challenge=again.challenge, code=code)
    assert not replayed.value.ended
    # An older step than the last one used is refused too; two steps away is out of the window.
    with pytest.raises(auth.SecondFactorFailed):
        auth.finish_with_code(db, challenge=again.challenge, code=_code(secret, fake_clock, steps=2))
    assert _user(db, ADMIN).failed_attempts == 2
    fake_clock.advance(seconds=30)
    signed_in = auth.finish_with_code(db, challenge=again.challenge, code=_code(secret, fake_clock))
    assert signed_in.principal.email == ADMIN
    assert _user(db, ADMIN).failed_attempts == 0


def test_wrong_codes_count_toward_the_password_lockout(db, make_user, fake_clock,
                                                       required_for_staff):
    make_user(ADMIN, staff=("support_rep",))
    secret, _ = _enrol(db, fake_clock)
    with pytest.raises(auth.SignInFailed):
        auth.sign_in(db, email=ADMIN, password="wrong")
    # The right password does not wipe the count while the code is still to come.
    step = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    assert _user(db, ADMIN).failed_attempts == 1
    with pytest.raises(auth.SecondFactorFailed):
        auth.finish_with_code(db, challenge=step.challenge, code="000000")
    with pytest.raises(auth.SecondFactorFailed) as third:
        auth.finish_with_code(db, challenge=step.challenge, code="111111")
    assert third.value.ended and "locked" in str(third.value)
    assert _user(db, ADMIN).status == "locked"
    assert [e.details for e in _events(db, "user.locked")]
    # Locked: even the right code on the same challenge opens nothing.
    with pytest.raises(ChallengeEnded):
        auth.finish_with_code(db, challenge=step.challenge, code=_code(secret, fake_clock))
    with pytest.raises(auth.SignInFailed):
        auth.sign_in(db, email=ADMIN, password=PASSWORD)


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(db, make_user, fake_clock,
                                                                  required_for_staff):
    make_user(ADMIN, staff=("support_rep",))
    _, codes = _enrol(db, fake_clock)
    step = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    typed = codes[3].lower().replace("-", " ")  # typed loosely from the printout
    assert auth.finish_with_code(db, challenge=step.challenge, code=typed).principal.email == ADMIN
    [notice] = _mail(db, "recovery code was used")
    assert "nine recovery codes are left" in notice.body.lower() or "9 recovery codes" in notice.body
    again = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    with pytest.raises(auth.SecondFactorFailed):
        auth.finish_with_code(db, challenge=again.challenge, code=codes[3])
    assert auth.finish_with_code(db, challenge=again.challenge, code=codes[4]).principal.email == ADMIN
    used = [e.outcome for e in _events(db, "sign_in") if e.details.get("second_factor") == "recovery_code"]
    assert used == ["success", "success"]


def test_a_sign_in_step_expires_and_a_newer_sign_in_replaces_it(db, make_user, fake_clock,
                                                                required_for_staff):
    make_user(ADMIN, staff=("support_rep",))
    secret, _ = _enrol(db, fake_clock)
    fake_clock.advance(minutes=1)
    first = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    second = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    with pytest.raises(ChallengeEnded):
        auth.finish_with_code(db, challenge=first.challenge, code=_code(secret, fake_clock))
    fake_clock.advance(minutes=11)
    with pytest.raises(ChallengeEnded):
        auth.finish_with_code(db, challenge=second.challenge, code=_code(secret, fake_clock))
    with pytest.raises(ChallengeEnded):
        auth.finish_with_code(db, challenge="made-up", code=_code(secret, fake_clock))


def test_support_resets_a_lost_phone_and_the_person_sets_up_again(db, make_user, fake_clock,
                                                                  required_for_staff):
    person = make_user(ADMIN, name="Ana Admin", staff=("support_rep",))
    make_user("desk@resultsdesk.test", staff=("system_admin",))  # a support rep's staff peer needs more
    secret, _ = _enrol(db, fake_clock)
    fake_clock.advance(seconds=30)
    step = auth.sign_in(db, email=ADMIN, password=PASSWORD)
    signed_in = auth.finish_with_code(db, challenge=step.challenge, code=_code(secret, fake_clock))
    support = principal_of(db, "desk@resultsdesk.test")
    assert support_tools.state(db, support, user_id=person).second_factor

    support_tools.reset_second_factor(db, support, user_id=person)
    assert not support_tools.state(db, support, user_id=person).second_factor
    with pytest.raises(SessionEnded):  # whoever holds the phone is signed out
        sessions.resume(db, signed_in.token)
    assert _mail(db, "two-factor sign-in was reset")
    [event] = _events(db, "two_factor.reset")
    assert event.actor_email == "desk@resultsdesk.test" and event.target_id == str(person)
    with pytest.raises(InvalidInput):
        support_tools.reset_second_factor(db, support, user_id=person)  # nothing left to reset
    assert auth.sign_in(db, email=ADMIN, password=PASSWORD).step == "enrol"
    with pytest.raises(InvalidInput):
        support_tools.reset_second_factor(db, support, user_id=support.user_id)


def test_only_support_may_reset_a_second_factor(db, make_user, fake_clock, required_for_staff):
    person = make_user(ADMIN, staff=("support_rep",))
    make_user("viewer@acme.test", staff=("manager",))
    _enrol(db, fake_clock)
    with pytest.raises(PermissionDenied):
        support_tools.reset_second_factor(db, principal_of(db, "viewer@acme.test"), user_id=person)
    assert auth.sign_in(db, email=ADMIN, password=PASSWORD).step == "code"


def test_anyone_may_turn_it_on_in_my_account_but_a_required_role_cannot_turn_it_off(
        db, make_user, fake_clock, required_for_staff):
    make_user("clerk@acme.test")  # no role requires it
    clerk = principal_of(db, "clerk@acme.test")
    assert two_factor.status(db, clerk) == two_factor.Status(False, False, 0)
    shown = two_factor.start_own(db, clerk)
    assert two_factor.status(db, clerk).pending.secret == shown.secret
    with pytest.raises(InvalidInput):
        two_factor.confirm_own(db, clerk, code="12345")
    codes = two_factor.confirm_own(db, clerk, code=_code(shown.secret, fake_clock))
    assert len(codes) == 10 and two_factor.status(db, clerk).enrolled
    fake_clock.advance(seconds=30)
    step = auth.sign_in(db, email="clerk@acme.test", password=PASSWORD)
    assert step.step == "code"
    auth.finish_with_code(db, challenge=step.challenge, code=_code(shown.secret, fake_clock))
    with pytest.raises(InvalidInput):  # the code just used cannot turn it off
        two_factor.turn_off_own(db, clerk, code=_code(shown.secret, fake_clock))
    fake_clock.advance(seconds=30)
    two_factor.turn_off_own(db, clerk, code=_code(shown.secret, fake_clock))
    assert isinstance(auth.sign_in(db, email="clerk@acme.test", password=PASSWORD), auth.SignedIn)

    make_user(ADMIN, staff=("support_rep",))
    secret, _ = _enrol(db, fake_clock)
    fake_clock.advance(seconds=30)
    with pytest.raises(InvalidInput):
        two_factor.turn_off_own(db, principal_of(db, ADMIN), code=_code(secret, fake_clock))
    new = two_factor.new_codes_own(db, principal_of(db, ADMIN), code=_code(secret, fake_clock, steps=1))
    assert len(set(new)) == 10 and two_factor.status(db, principal_of(db, ADMIN)).recovery_codes_left == 10


def test_who_must_use_it_by_default(monkeypatch):
    monkeypatch.setenv("RESULTSDESK_DEMO", "0")
    monkeypatch.delenv("RESULTSDESK_TWO_FACTOR_ROLES", raising=False)
    assert settings.current().two_factor_roles == set(settings.TWO_FACTOR_ROLES)
    assert {"provider_staff", "account_user"}.isdisjoint(settings.current().two_factor_roles)
    monkeypatch.setenv("RESULTSDESK_TWO_FACTOR_ROLES", "none")
    assert settings.current().two_factor_roles == set()
    monkeypatch.setenv("RESULTSDESK_TWO_FACTOR_ROLES", "account_user, wizard")
    with pytest.raises(SystemExit, match="wizard"):
        settings.current()


def test_staff_password_sign_in_can_be_turned_off(db, make_user, fake_clock, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_STAFF_PASSWORD_SIGN_IN", "0")
    make_user("desk@resultsdesk.test", staff=("support_rep",))
    make_user("clerk@acme.test")
    with pytest.raises(auth.StaffPasswordOff):
        auth.sign_in(db, email="desk@resultsdesk.test", password=PASSWORD)
    # A wrong password learns nothing about the account being staff.
    with pytest.raises(auth.SignInFailed) as wrong:
        auth.sign_in(db, email="desk@resultsdesk.test", password="wrong")
    assert not isinstance(wrong.value, auth.StaffPasswordOff)
    assert isinstance(auth.sign_in(db, email="clerk@acme.test", password=PASSWORD), auth.SignedIn)
