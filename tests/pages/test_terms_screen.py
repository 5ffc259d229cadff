"""Terms of use: a newly published version must be accepted before anything else, once."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent, TermsAcceptance, TermsVersion, User
from services.identity import terms
from tests.conftest import principal_of
from tests.pages.conftest import screens, sign_in, sign_out, titles


def test_a_new_terms_version_is_accepted_before_anything_else(app, demo_db, fake_clock_app):
    terms.publish(demo_db, principal_of(demo_db, "admin@demo.test"), version="2027-01",
                  text="New terms.\n\n1. Only for your organisation's patients.")
    sign_in(app, "employer@demo.test")
    assert titles(app) == ["Terms of use"]
    assert any("1. Only for your organisation's patients." in t.value for t in app.text)
    # The terms alone, as the default page; nothing else is reachable but the page a new email
    # address's link opens (it changes no screen's rules).
    assert screens(app) == {"", "confirm-email"}
    assert app.button(key="terms_accept").disabled
    app.checkbox(key="terms_read").check().run()
    app.button(key="terms_accept").click().run()
    assert titles(app) == ["Welcome"] and "reports" in screens(app)
    with demo_db.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == "employer@demo.test"))
        assert user.terms_version == "2027-01" and user.terms_accepted_at is not None
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "terms.accepted")).all()
    assert [(e.actor_email, e.details) for e in events] == [("employer@demo.test", {"version": "2027-01"})]
    with demo_db.transaction(write=False) as session:
        accepted = session.scalars(select(TermsVersion.version).join(
            TermsAcceptance, TermsAcceptance.terms_version_id == TermsVersion.id)
            .where(TermsAcceptance.user_id == user.id).order_by(TermsVersion.id)).all()
    assert accepted == ["2026-11", "2027-01"]  # the seed's acceptance (migration 0013's text), then this one
    sign_out(app)
    sign_in(app, "employer@demo.test")
    assert titles(app) == ["Welcome"]  # accepted once, not asked again


def test_the_accepted_version_lets_people_straight_in(app, fake_clock_app):
    sign_in(app, "employer@demo.test")
    assert titles(app) == ["Welcome"]
