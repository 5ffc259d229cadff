"""Terms of use: a new version must be accepted before anything else, once."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent, User
from tests.pages.conftest import screens, sign_in, sign_out, titles


def test_a_new_terms_version_is_accepted_before_anything_else(app, demo_db, fake_clock_app,
                                                              monkeypatch):
    monkeypatch.setenv("RESULTSDESK_TERMS_VERSION", "2027-01")
    sign_in(app, "employer@demo.test")
    assert titles(app) == ["Terms of use"]
    assert screens(app) == {""}  # the terms alone, as the default page: nothing else is reachable
    assert app.button(key="terms_accept").disabled
    app.checkbox(key="terms_read").check().run()
    app.button(key="terms_accept").click().run()
    assert titles(app) == ["Welcome"] and "reports" in screens(app)
    with demo_db.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == "employer@demo.test"))
        assert user.terms_version == "2027-01" and user.terms_accepted_at is not None
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "terms.accepted")).all()
    assert [(e.actor_email, e.details) for e in events] == [("employer@demo.test", {"version": "2027-01"})]
    sign_out(app)
    sign_in(app, "employer@demo.test")
    assert titles(app) == ["Welcome"]  # accepted once, not asked again


def test_the_accepted_version_lets_people_straight_in(app, fake_clock_app):
    sign_in(app, "employer@demo.test")
    assert titles(app) == ["Welcome"]
