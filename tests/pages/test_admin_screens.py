"""Audit, Users and Roles screens as their users see them."""

from __future__ import annotations

from services import policy
from tests.pages.conftest import literal_texts, open_screen, sign_in, sign_out, titles


def _lock(app, email):
    for attempt in range(3):
        sign_in(app, email, f"Wrong-Password-{attempt}")


def test_privacy_officer_reviews_failures_and_lockouts_in_the_audit_trail(app, fake_clock_app):
    _lock(app, "clinic@demo.test")
    sign_in(app, "privacy@demo.test")
    open_screen(app, "audit")
    assert titles(app) == ["Audit trail"]
    table = app.dataframe[0].value
    assert {"sign_in", "user.locked"} <= set(table["Action"])
    assert set(table[table["Action"] == "user.locked"]["Actor"]) == {"clinic@demo.test"}
    app.selectbox(key="audit_action").select("user.locked").run()
    assert set(app.dataframe[0].value["Action"]) == {"user.locked"}


def test_support_unlocks_from_the_users_screen_and_the_user_gets_back_in(app, fake_clock_app):
    _lock(app, "clinic@demo.test")
    sign_in(app, "support@demo.test")
    open_screen(app, "users")
    assert list(app.dataframe[0].value["Email"]) == ["clinic@demo.test"]
    app.selectbox(key="unlock_choice").select("clinic@demo.test")
    app.button(key="unlock").click().run()
    assert [s.value for s in app.success] == ["Unlock: done."]
    assert "No locked accounts in your scope." in [m.value for m in app.markdown]
    sign_out(app)
    sign_in(app, "clinic@demo.test")
    assert titles(app)[0] == "Welcome"


def test_a_clinic_admin_cannot_find_users_of_other_organisations(app, fake_clock_app):
    sign_in(app, "clinicadmin@demo.test")
    open_screen(app, "users")
    app.text_input(key="users_lookup_email").input("employer@demo.test")
    app.button(key="FormSubmitter:find_user-Find").click().run()
    assert [w.value for w in app.warning] == ["No user with that email address in your scope."]
    app.text_input(key="users_lookup_email").input("clinic@demo.test")
    app.button(key="FormSubmitter:find_user-Find").click().run()
    assert any(text.startswith("<p>Chris Chen (clinic@demo.test): status active;")
               for text in literal_texts(app))


def test_roles_screen_shows_the_enforced_matrix(app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "roles")
    matrix = app.dataframe[0].value
    assert list(matrix.columns) == [policy.ROLE_LABELS[r] for r in policy.Role]
    manager = matrix[policy.ROLE_LABELS[policy.Role.MANAGER]]
    assert manager[manager == "✓"].index.tolist() == [
        policy.ACTION_LABELS[policy.Action.VIEW_DASHBOARDS],
        policy.ACTION_LABELS[policy.Action.VIEW_INCIDENT_COUNTS]]


def test_a_name_written_as_markdown_or_html_shows_literally(app, demo_db):
    from sqlalchemy import update

    from db.models import User

    name = "[Click here](https://evil.example) <script>alert(1)</script> www.evil.example"
    with demo_db.transaction() as session:
        session.execute(update(User).where(User.email == "manager@demo.test").values(name=name))
    sign_in(app, "manager@demo.test")
    shown = literal_texts(app)
    assert "<p>Signed in as [Click here](https://evil.example) &lt;script&gt;alert(1)&lt;/script&gt; " \
           "www.evil.example (manager@demo.test).</p>" in shown
    # No Markdown element carries the name, so no link can be made of it.
    assert not any("evil" in m.value for m in app.markdown) and not any("evil" in t for t in titles(app))


def test_a_click_after_the_session_expired_does_nothing(app, demo_db, fake_clock_app):
    from sqlalchemy import select

    from db.models import User

    _lock(app, "clinic@demo.test")
    sign_in(app, "support@demo.test")
    open_screen(app, "users")
    app.selectbox(key="unlock_choice").select("clinic@demo.test")
    fake_clock_app.advance(minutes=16)  # the support rep walked away from an open tab
    app.button(key="unlock").click().run()
    assert titles(app) == ["Sign in to ResultsDesk"]
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(User.status).where(User.email == "clinic@demo.test")).one() == "locked"
