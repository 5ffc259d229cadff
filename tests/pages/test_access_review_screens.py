"""The access review screens draw for the people who use them, and only for them."""

from __future__ import annotations

from datetime import timedelta

from pages.common import confirm
from services import clock
from services.privacy import access_reviews as reviews
from tests.conftest import principal_of
from tests.pages.conftest import open_screen, screens, sign_in, titles


def test_privacy_office_screen_and_a_reviewers_list(app, demo_db, fake_clock_app):
    sign_in(app, "privacy@demo.test")
    open_screen(app, "access-reviews")
    assert not app.exception and titles(app) == ["Access reviews"]
    assert "access-review" not in screens(app)  # no people of her own to review
    # A review without a name is refused before anyone is asked to confirm it.
    app.button(key="FormSubmitter:access_review_open-Open the review…").click().run()
    assert [e.value for e in app.error] == ["Give the review a name of 1 to 120 characters on one line."]
    assert confirm.PENDING_KEY not in app.session_state
    assert reviews.campaigns(demo_db, principal_of(demo_db, "privacy@demo.test")) == []
    reviews.open_campaign(demo_db, principal_of(demo_db, "privacy@demo.test"), title="Q4",
                          due_on=(clock.now() + timedelta(days=14)).date())
    open_screen(app, "access-reviews")
    assert not app.exception
    assert any(df.value.shape[0] == 1 for df in app.dataframe)  # the review in the grid


def test_group_admin_sees_home_notice_and_their_people(app, demo_db, fake_clock_app):
    reviews.open_campaign(demo_db, principal_of(demo_db, "privacy@demo.test"), title="Q4",
                          due_on=(clock.now() + timedelta(days=14)).date())
    sign_in(app, "groupadmin@demo.test")
    assert "access-reviews" not in screens(app)
    assert any("An access review asks you to confirm" in w.value for w in app.warning)
    open_screen(app, "access-review")
    assert not app.exception and titles(app) == ["Review your people"]
    keeps = [b for b in app.button if b.key.startswith("access_keep_")]
    assert len(keeps) == 2  # Carmen's provider admin role and Chris's staff role
    keeps[0].click().run()
    assert not app.exception
    assert len([b for b in app.button if b.key.startswith("access_keep_")]) == 1
    assert [s.value for s in app.success] == ["Role kept."]
