"""Forgot password, invitation links and registration, as a signed-out visitor sees them."""

from __future__ import annotations

from sqlalchemy import select

from db.models import OutboxMessage
from services.identity import password_reset
from tests.pages.conftest import open_screen, titles


def _forgot(app, email: str) -> list[str]:
    open_screen(app, "forgot-password")
    app.text_input(key="forgot_email").input(email)
    app.button(key="FormSubmitter:forgot_password-Send me a reset link").click().run()
    return [i.value for i in app.info]


def test_forgot_password_answers_the_same_for_unknown_and_known_addresses(app, demo_db):
    assert _forgot(app, "nobody@demo.test") == [password_reset.SENT]
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    app.session_state["forgot_answer"] = None
    assert _forgot(app, "employer@demo.test") == [password_reset.SENT]
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(OutboxMessage.to_address)).all() == ["employer@demo.test"]


def test_an_unknown_invitation_link_says_to_ask_for_a_new_one(app):
    app.query_params["token"] = "not-a-real-token"
    open_screen(app, "accept-invitation")
    assert titles(app) == ["Accept your invitation"]
    assert [e.value for e in app.error] == [
        "This invitation link is not valid. Ask your administrator for a new invitation."]


def test_a_wrong_registration_code_gets_the_generic_message(app):
    open_screen(app, "register")
    app.text_input(key="reg_npi").input("1234567893")
    app.text_input(key="reg_code").input("AAAA-BBBB-CCCC-DDDD")
    app.text_input(key="reg_email").input("first@clinic.example")
    app.text_input(key="reg_name").input("Fran First")
    app.text_input(key="reg_password").input("Harbor-Lights-2026")
    app.checkbox(key="reg_terms").check()
    app.button(key="FormSubmitter:register-Register").click().run()
    assert [e.value for e in app.error] == [
        "The NPI and registration code do not match a valid registration. Check both, or ask "
        "support for a new code."]
