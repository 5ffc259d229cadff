"""Support tools in a person's panel (only for the roles that may use them, each change shown in
the same run) and the Settings screen (a refused value changes nothing, publishing asks first and
then asks the publisher to accept)."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import OutboxMessage, PortalSetting, TermsAcceptance, TermsVersion, User
from services.mail import support_contact
from tests.pages.conftest import literal_texts, open_screen, sign_in, titles


def _people_grid(at):
    return next(frame for frame in at.dataframe if frame.key.startswith("people_grid_"))


def _panel(app, actor: str, person: str):
    sign_in(app, actor)
    open_screen(app, "users")
    grid = _people_grid(app)
    rows = [list(grid.value["Email"]).index(person)]
    app.session_state[grid.key] = {"selection": {"rows": rows}}
    return app.run()


def _user(db, email: str) -> User:
    with db.transaction(write=False) as session:
        return session.scalar(select(User).where(User.email == email))


def _keys(at) -> set[str]:
    return {button.key for button in at.button if button.key}


def test_support_tools_are_offered_to_support_and_admins_only(app, demo_db, fake_clock_app):
    employer = _user(demo_db, "employer@demo.test").id
    _panel(app, "accounts@demo.test", "employer@demo.test")
    assert f"person_Deactivate_{employer}" in _keys(app)  # the account rep manages the person...
    assert f"support_reset_{employer}" not in _keys(app)  # ...but has no support tools
    assert "<h5>Support tools</h5>" not in literal_texts(app)


def test_support_switches_new_result_emails_and_sends_a_reset_link(app, demo_db, fake_clock_app):
    employer = _user(demo_db, "employer@demo.test")
    _panel(app, "support@demo.test", "employer@demo.test")
    assert "<h5>Support tools</h5>" in literal_texts(app)
    switch = app.button(key=f"support_notices_{employer.id}")
    assert switch.label == "Turn new-result emails on"
    switch.click().run()
    assert _user(demo_db, "employer@demo.test").notify_new_results
    # The panel shows the new state in the same run, still for the same person.
    assert app.button(key=f"support_notices_{employer.id}").label == "Turn new-result emails off"
    assert "New-result emails: on." in [m.value for m in app.markdown]
    app.button(key=f"support_reset_{employer.id}").click().run()
    assert [s.value for s in app.success][-1].startswith("Password-reset link sent: it works once")
    with demo_db.transaction(write=False) as session:
        sent = session.scalars(select(OutboxMessage.to_address)
                               .where(OutboxMessage.kind == "password_reset")).all()
    assert sent == ["employer@demo.test"]


def test_a_changed_address_waits_for_confirmation_and_is_shown_literally(app, demo_db, fake_clock_app):
    employer = _user(demo_db, "employer@demo.test").id
    _panel(app, "support@demo.test", "employer@demo.test")
    typed = "[erin](https://evil.example)@x.example"
    app.text_input(key=f"email_change_new_{employer}").input("erin.ellis@newmail.example")
    app.text_input(key=f"email_change_again_{employer}").input("erin.ellis@newmail.example")
    app.button(key=f"FormSubmitter:email_change_{employer}-Send confirmation link").click().run()
    assert any("Waiting for confirmation: erin.ellis@newmail.example" in text
               for text in literal_texts(app))
    assert _user(demo_db, "employer@demo.test").email == "employer@demo.test"
    # A typed address never reaches Markdown: refused, and not echoed in the message.
    app.text_input(key=f"email_change_new_{employer}").input(typed)
    app.text_input(key=f"email_change_again_{employer}").input(typed)
    app.button(key=f"FormSubmitter:email_change_{employer}-Send confirmation link").click().run()
    assert all("evil.example" not in e.value for e in app.error)


def test_settings_refuse_a_bad_phone_and_save_a_good_one(app, demo_db, fake_clock_app):
    sign_in(app, "admin@demo.test")
    open_screen(app, "settings")
    assert titles(app) == ["Settings"]
    phone = next(t for t in app.text_input if t.label == "Support phone")
    phone.input("call us")
    app.button(key="FormSubmitter:settings_contact-Save contact details").click().run()
    assert any("Support phone: a phone number" in e.value for e in app.error)
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(PortalSetting)).all() == []
    next(t for t in app.text_input if t.label == "Support phone").input("(713) 555-0123")
    app.button(key="FormSubmitter:settings_contact-Save contact details").click().run()
    assert support_contact.contact(demo_db).support_phone == "(713) 555-0123"
    assert next(t for t in app.text_input if t.label == "Support phone").value == "(713) 555-0123"


def test_publishing_needs_a_label_asks_first_and_then_the_publisher_accepts(app, demo_db, fake_clock_app):
    sign_in(app, "admin@demo.test")
    open_screen(app, "settings")
    [history] = [frame.value for frame in app.dataframe if "Accepted by" in frame.value.columns]
    with demo_db.transaction(write=False) as session:
        accepted = session.scalar(select(func.count()).select_from(TermsAcceptance))
    assert accepted > 0 and history[["Version", "Accepted by"]].values.tolist() == [["2026-11", accepted]]
    app.button(key="FormSubmitter:settings_terms-Publish…").click().run()
    assert any("version label first" in e.value for e in app.error)
    next(t for t in app.text_input if t.label == "Version label").input("2027-01")
    next(t for t in app.text_area if t.label == "Text").input("Shorter terms.")
    app.button(key="FormSubmitter:settings_terms-Publish…").click().run()
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(TermsVersion.version)).all() == ["2026-11"]  # asked first
    app.button(key="confirm_yes").click().run()
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(TermsVersion.version).order_by(TermsVersion.id)).all() == [
            "2026-11", "2027-01"]
    assert titles(app) == ["Terms of use"]
    assert [t.value for t in app.text] == ["Shorter terms."]
