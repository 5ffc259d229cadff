"""Settings on SQLite and PostgreSQL: the portal's contact details (defaults, validation, audited
before and after, in every email's footer), publishing terms of use (everyone accepts again; each
acceptance points to the text accepted; the history stays) and the security configuration."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import AuditEvent, OutboxMessage, TermsAcceptance, TermsVersion, User
from services import portal_settings
from services.errors import InvalidInput, PermissionDenied
from services.identity import password_reset, terms
from services.mail import support_contact
from services.mail.support_contact import SupportContact
from tests.conftest import principal_of

NEW_CONTACT = SupportContact(support_phone="(713) 555-0123", support_hours="Weekdays 8-6 Central",
                             support_email="Help@Clinic.example", hipaa_hotline="1-888-555-0177")


@pytest.fixture
def staff(db, make_user, fake_clock):
    make_user("admin@x.test", name="Ada Admin", staff=("system_admin",))
    make_user("support@x.test", name="Sam Support", staff=("support_rep",))
    make_user("client@acme.example", name="Casey Client")
    return {"admin": principal_of(db, "admin@x.test"), "support": principal_of(db, "support@x.test")}


def _events(db, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_contact_details_start_from_defaults_and_an_admin_changes_them_audited(db, staff):
    assert support_contact.contact(db) == support_contact.DEFAULTS
    changed = support_contact.update(db, staff["admin"], values=NEW_CONTACT)
    assert changed == ["Support phone", "Support hours", "Support email", "HIPAA hotline"]
    now = support_contact.contact(db)
    assert now == SupportContact("(713) 555-0123", "Weekdays 8-6 Central", "help@clinic.example",
                                 "1-888-555-0177")
    [event] = _events(db, "settings.contact_changed")
    assert event.actor_email == "admin@x.test"
    assert event.details["before"].startswith("Support phone: 1-800-555-0142;")
    assert "HIPAA hotline: 1-888-555-0177" in event.details["after"]
    # Saving the same values again changes and records nothing.
    assert support_contact.update(db, staff["admin"], values=now) == []
    assert len(_events(db, "settings.contact_changed")) == 1
    # Only what changed is recorded.
    support_contact.update(db, staff["admin"], values=SupportContact(
        now.support_phone, now.support_hours, now.support_email, "1-888-555-0100"))
    last = _events(db, "settings.contact_changed")[-1]
    assert last.details == {"changed": ["HIPAA hotline"], "before": "HIPAA hotline: 1-888-555-0177",
                            "after": "HIPAA hotline: 1-888-555-0100"}


@pytest.mark.parametrize("field, value, message", [
    ("support_phone", "call us", "Support phone"),
    ("hipaa_hotline", "12345", "HIPAA hotline"),
    ("support_email", "help at clinic", "valid email"),
    ("support_hours", "", "Support hours"),
])
def test_a_bad_value_is_refused_and_nothing_changes(db, staff, field, value, message):
    values = {**NEW_CONTACT.__dict__, field: value}
    with pytest.raises(InvalidInput, match=message):
        support_contact.update(db, staff["admin"], values=SupportContact(**values))
    assert support_contact.contact(db) == support_contact.DEFAULTS
    assert _events(db, "settings.contact_changed") == []


def test_only_system_admins_change_settings(db, staff):
    with pytest.raises(PermissionDenied):
        support_contact.update(db, staff["support"], values=NEW_CONTACT)
    with pytest.raises(PermissionDenied):
        terms.publish(db, staff["support"], version="2027-01", text="Other terms.")
    with pytest.raises(PermissionDenied):
        portal_settings.security_configuration(db, staff["support"])
    assert len(_events(db, "permission.denied")) == 3
    assert support_contact.contact(db) == support_contact.DEFAULTS


def test_every_email_ends_with_the_contact_details_in_effect(db, staff):
    support_contact.update(db, staff["admin"], values=NEW_CONTACT)
    password_reset.request_reset(db, email="client@acme.example")
    with db.transaction(write=False) as session:
        body = session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "password_reset"))
    assert body.endswith("Need help? ResultsDesk support: (713) 555-0123 (Weekdays 8-6 Central), "
                         "help@clinic.example.\nReceived information in error? Call the HIPAA "
                         "hotline: 1-888-555-0177.\n")


def _accepted_versions(db, email: str) -> list[str]:
    with db.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        return list(session.scalars(select(TermsVersion.version).join(
            TermsAcceptance, TermsAcceptance.terms_version_id == TermsVersion.id)
            .where(TermsAcceptance.user_id == user_id).order_by(TermsVersion.id)))


def test_publishing_asks_everyone_again_and_each_acceptance_names_its_version(db, staff, fake_clock):
    for email in ("admin@x.test", "support@x.test", "client@acme.example"):
        terms.accept(db, principal_of(db, email))
    first = terms.current(db)
    assert not any(terms.needs_acceptance(db, principal_of(db, email))
                   for email in ("admin@x.test", "support@x.test", "client@acme.example"))

    fake_clock.advance(days=1)
    published = terms.publish(db, staff["admin"], version=" 2027-01 ",
                              text="New terms.\n1. Be careful with reports.")
    assert (published.version, published.published_by) == ("2027-01", "Ada Admin")
    assert terms.current(db).text == "New terms.\n1. Be careful with reports.\n"
    # Everyone, the publisher included, must accept the new text before going on.
    assert all(terms.needs_acceptance(db, principal_of(db, email))
               for email in ("admin@x.test", "support@x.test", "client@acme.example"))
    client = principal_of(db, "client@acme.example")
    # A person shown the older text cannot accept the newer one with it.
    with pytest.raises(InvalidInput, match="newer text"):
        terms.accept(db, client, version=first.version)
    terms.accept(db, client, version="2027-01")
    assert not terms.needs_acceptance(db, principal_of(db, "client@acme.example"))
    assert _accepted_versions(db, "client@acme.example") == [first.version, "2027-01"]
    assert principal_of(db, "client@acme.example").terms_version == "2027-01"
    # The history keeps both texts, newest first, and who accepted each.
    history = terms.history(db, staff["admin"])
    assert [v.version for v in history] == ["2027-01", first.version]
    assert [version.accepted for version in history] == [1, 3]
    [event] = _events(db, "terms.published")
    assert event.details == {"before": first.version, "after": "2027-01",
                             "characters": len("New terms.\n1. Be careful with reports.")}


def test_a_label_used_before_an_unchanged_text_or_a_bad_label_is_refused(db, staff):
    terms.publish(db, staff["admin"], version="2027-01", text="Second text.")
    with pytest.raises(InvalidInput, match="published before"):
        terms.publish(db, staff["admin"], version="2027-01", text="Third text.")
    with pytest.raises(InvalidInput, match="same as the current"):
        terms.publish(db, staff["admin"], version="2027-02", text="Second text.\n")
    with pytest.raises(InvalidInput, match="label"):
        terms.publish(db, staff["admin"], version="<b>2027</b>", text="Third text.")
    with pytest.raises(InvalidInput, match="text of the terms"):
        terms.publish(db, staff["admin"], version="2027-03", text="  ")
    assert [v.version for v in terms.history(db, staff["admin"])][0] == "2027-01"
    assert len(_events(db, "terms.published")) == 1


def test_the_security_configuration_says_what_is_in_effect_and_where_it_is_set(db, staff, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("RESULTSDESK_PASSWORD_POLICY", "length")
    lines = {line.rule: line for line in portal_settings.security_configuration(db, staff["admin"])}
    idle = lines["Sign-out after inactivity"]
    assert (idle.value, idle.where) == ("10 minutes", "RESULTSDESK_SESSION_IDLE_MINUTES")
    assert lines["Longest session"].value == "8 hours"
    assert lines["Failed sign-ins before an account locks"].value == "three"
    assert lines["Failed sign-ins before an account locks"].where == portal_settings.FIXED
    assert lines["A locked account unlocks itself after"].where == "RESULTSDESK_LOCKOUT_MINUTES"
    assert lines["Password policy"].value == "length"
    assert portal_settings.password_rules()[0] == "15 to 64 characters"
    assert lines["Most reports in one bulk download"].value == "5,000 reports"
    assert lines["Reports stay in the portal after delivery"].value == "60 days"
    assert lines["An invitation link works for"].value == "48 hours"
    assert lines["A password-reset link works for"].value == "1 hour"


def test_the_dormant_account_limits_show_with_their_variables(db, staff, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_DORMANT_STAFF_DAYS", "30")
    lines = {line.rule: line for line in portal_settings.security_configuration(db, staff["admin"])}
    everyone = lines["An account without a sign-in is deactivated after"]
    assert (everyone.value, everyone.where) == ("90 days", "RESULTSDESK_DORMANT_DAYS")
    privileged = lines["Staff and admin accounts without a sign-in are deactivated after"]
    assert (privileged.value, privileged.where) == ("30 days", "RESULTSDESK_DORMANT_STAFF_DAYS")
    assert lines["The holder is warned by email before deactivation"].value == "7 days"
