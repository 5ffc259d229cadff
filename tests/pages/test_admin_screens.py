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
    happened = table["What happened"]
    assert happened.str.startswith("Sign-in: ").any() and happened.str.startswith("Account locked: ").any()
    locked = table[happened.str.startswith("Account locked: ")]
    assert len(locked) == 1 and locked["Details"].str.fullmatch(
        r"After 3 failed attempts; Locked until: \d{4}-\d\d-\d\d \d\d:\d\d UTC").all()
    assert set(table[happened.str.startswith("Account locked: ")]["Actor"]) == {"clinic@demo.test"}
    assert set(table[happened.str.startswith("Sign-in: Chris Chen (user ")]["Outcome"]) == {"Failure"}
    assert "Reason: wrong password" in set(table["Details"])
    app.multiselect(key="audit_actions").set_value(["Account locked"]).run()
    only = app.dataframe[0].value["What happened"]
    assert len(only) == 1 and only.str.fullmatch(r"Account locked: Chris Chen \(user \d+\)").all()


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


# The Users screen as a provider group admin: least privilege by default, only buttons that
# can apply, a question before anything that takes access away or gives power.

def _people_grid(at):
    return next(frame for frame in at.dataframe if frame.key.startswith("people_grid_"))


def _tick(at, *emails):
    """Tick the people with these addresses (AppTest takes the selection from session state)."""
    grid = _people_grid(at)
    rows = [list(grid.value["Email"]).index(email) for email in emails]
    at.session_state[grid.key] = {"selection": {"rows": rows}}
    return at.run()


def _users_as(app, email):
    sign_in(app, email)
    return open_screen(app, "users")


def _status(demo_db, email):
    from sqlalchemy import select

    from db.models import User

    with demo_db.transaction(write=False) as session:
        return session.scalars(select(User.status).where(User.email == email)).one()


def _roles(demo_db, email):
    from sqlalchemy import select

    from db.models import Membership, User

    with demo_db.transaction(write=False) as session:
        return sorted(session.scalars(select(Membership.role).join(User, User.id == Membership.user_id)
                                      .where(User.email == email)).all())


def _signed_in_once(demo_db, email):
    from sqlalchemy import update

    from db.models import User
    from tests.pages.conftest import DEMO_NOW

    with demo_db.transaction() as session:
        session.execute(update(User).where(User.email == email).values(last_login_at=DEMO_NOW))


def _button(at, key):
    return next(button for button in at.button if button.key == key)


def _keys(at):
    return {button.key for button in at.button}


def test_the_invite_form_starts_with_no_role_and_refuses_to_send_without_one(app, demo_db, fake_clock_app):
    from sqlalchemy import func, select

    from db.models import RoleInvitation

    _users_as(app, "groupadmin@demo.test")
    assert app.selectbox(key="invite_role").value is None
    app.text_input(key="invite_email").input("newcomer@example.org")
    app.text_input(key="invite_email_again").input("newcomer@example.org")
    app.text_input(key="invite_name").input("Nia Newcomer")
    app.button(key="FormSubmitter:invite-Send invitation").click().run()
    assert [e.value for e in app.error] == ["Choose the role to offer."]
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(RoleInvitation)) == 0


def test_add_a_role_starts_empty_and_resets_after_a_role_is_added(app, demo_db, fake_clock_app):
    _users_as(app, "groupadmin@demo.test")
    _tick(app, "clinic@demo.test")
    picker = next(box for box in app.selectbox if box.key.startswith("role_add_choice_"))
    assert picker.value is None and picker.placeholder == "Choose a role and where it applies"
    add = next(button for button in app.button if button.key.startswith("role_add_"))
    assert add.disabled
    staff = next(option for option in picker.options
                 if option.startswith("Provider staff") and "North" not in option
                 and option not in _people_grid(app).value["Roles"].tolist())
    before = _roles(demo_db, "clinic@demo.test")
    picker.select(staff).run()
    next(button for button in app.button if button.key.startswith("role_add_")).click().run()
    assert [s.value for s in app.success] == ["Role added: done."]
    assert len(_roles(demo_db, "clinic@demo.test")) == len(before) + 1
    assert next(box for box in app.selectbox if box.key.startswith("role_add_choice_")).value is None


def test_only_buttons_that_can_apply_are_offered(app, demo_db, fake_clock_app):
    _users_as(app, "groupadmin@demo.test")
    _tick(app, "groupadmin@demo.test")
    keys = _keys(app)
    # Your own account: nothing to deactivate, delete or sign out from here.
    assert not any(key.startswith(("person_Deactivate_", "person_Delete_")) for key in keys)
    assert _button(app, "people_bulk_Deactivate").disabled
    assert _button(app, "people_bulk_Resend invitation").disabled
    _tick(app, "clinic@demo.test")
    keys = _keys(app)
    # Never signed in: Delete really deletes, so it is offered beside Deactivate.
    assert any(key.startswith("person_Deactivate_") for key in keys)
    assert any(key.startswith("person_Delete_") for key in keys)
    assert _button(app, "people_bulk_Resend invitation").disabled
    assert not _button(app, "people_bulk_Deactivate").disabled
    _signed_in_once(demo_db, "clinic@demo.test")
    app.run()
    # Now their history is kept: no Delete that would quietly deactivate, and the reason shown.
    keys = _keys(app)
    assert any(key.startswith("person_Deactivate_") for key in keys)
    assert not any(key.startswith("person_Delete_") for key in keys)
    assert any("history is kept" in caption.value for caption in app.caption)


def test_deactivating_asks_first_and_cancel_changes_nothing(app, demo_db, fake_clock_app):
    _users_as(app, "groupadmin@demo.test")
    _tick(app, "clinic@demo.test")
    next(button for button in app.button if button.key.startswith("person_Deactivate_")).click().run()
    assert "<p>Deactivate Chris Chen (clinic@demo.test)?</p>" in literal_texts(app)
    _button(app, "confirm_cancel").click().run()
    assert _status(demo_db, "clinic@demo.test") == "active"
    assert "confirm_yes" not in _keys(app)
    next(button for button in app.button if button.key.startswith("person_Deactivate_")).click().run()
    _button(app, "confirm_yes").click().run()
    assert _status(demo_db, "clinic@demo.test") == "deactivated"
    assert [s.value for s in app.success] == ["Deactivate: done."]
    grid = _people_grid(app).value
    assert list(grid[grid["Email"] == "clinic@demo.test"]["Status"]) == ["Deactivated"]


def test_a_bulk_action_names_everyone_and_cancel_changes_nothing(app, demo_db, fake_clock_app):
    _users_as(app, "groupadmin@demo.test")
    _tick(app, "clinic@demo.test", "clinicadmin@demo.test", "groupadmin@demo.test")
    bulk = _button(app, "people_bulk_End sessions")
    assert bulk.label == "End sessions (2)"
    bulk.click().run()
    assert "<ul><li>Chris Chen (clinic@demo.test)</li><li>Carmen Castillo (clinicadmin@demo.test)</li></ul>" \
        in literal_texts(app) or "<ul><li>Carmen Castillo (clinicadmin@demo.test)</li><li>Chris Chen " \
        "(clinic@demo.test)</li></ul>" in literal_texts(app)
    _button(app, "confirm_cancel").click().run()
    assert not app.success and "confirm_yes" not in _keys(app)


def test_giving_an_admin_role_asks_first(app, demo_db, fake_clock_app):
    _users_as(app, "groupadmin@demo.test")
    _tick(app, "clinic@demo.test")
    before = _roles(demo_db, "clinic@demo.test")
    next(button for button in app.button if button.key.startswith("role_change_")).click().run()
    assert any(text.startswith("<p>Chris Chen (clinic@demo.test) will get: Provider admin")
               for text in literal_texts(app))
    _button(app, "confirm_cancel").click().run()
    assert _roles(demo_db, "clinic@demo.test") == before
    next(button for button in app.button if button.key.startswith("role_change_")).click().run()
    _button(app, "confirm_yes").click().run()
    assert _roles(demo_db, "clinic@demo.test") == ["provider_admin"]
    grid = _people_grid(app).value
    assert list(grid[grid["Email"] == "clinic@demo.test"]["Roles"]) == ["Provider admin"]


def test_the_people_list_names_where_each_role_applies_once_per_row(app, demo_db, fake_clock_app):
    _users_as(app, "groupadmin@demo.test")
    grid = _people_grid(app).value.set_index("Email")
    houston = "Sunbelt Occupational Medicine - Houston"
    assert grid.loc["clinic@demo.test", "Where"] == houston
    assert grid.loc["groupadmin@demo.test", "Where"] == "Sunbelt Occupational Medicine"
    _tick(app, "clinic@demo.test")
    # The provider's name already says its group: the panel does not repeat it.
    assert f"<p>Provider staff: {houston}</p>" in literal_texts(app)


def test_staff_roles_apply_to_the_whole_portal_on_the_people_list(app, demo_db, fake_clock_app):
    _users_as(app, "admin@demo.test")
    grid = _people_grid(app).value.set_index("Email")
    assert grid.loc["admin@demo.test", "Where"] == "Whole portal"
    assert grid.loc["employer@demo.test", "Where"] == "Harborline Freight Co."
