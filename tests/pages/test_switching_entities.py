"""Switching the chosen person, client account or invitation shows that one's saved values,
never what was typed for the one before (every widget key names its record)."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Account, User
from services.identity import role_invitations
from services.policy import Grant, Role
from tests.conftest import principal_of
from tests.pages.conftest import literal_texts, open_screen, sign_in
from tests.pages.test_client_accounts_screen import account_picker


def _user_id(demo_db, email: str) -> int:
    with demo_db.transaction(write=False) as session:
        return session.scalar(select(User.id).where(User.email == email))


def _grid(at, prefix: str):
    return next(frame for frame in at.dataframe if frame.key.startswith(prefix))


def _tick(at, prefix: str, column: str, *values: str):
    """What a click on the grid's checkbox column does (AppTest cannot click the canvas grid)."""
    grid = _grid(at, prefix)
    rows = [list(grid.value[column]).index(value) for value in values]
    at.session_state[grid.key] = {"selection": {"rows": rows}}
    return at.run()


def _widget_keys(at) -> set[str]:
    return ({w.key for w in at.text_input} | {w.key for w in at.selectbox}
            | {w.key for w in at.button})


def test_switching_people_shows_each_ones_saved_contact_details(app, demo_db, fake_clock_app):
    chris, carmen = _user_id(demo_db, "clinic@demo.test"), _user_id(demo_db, "clinicadmin@demo.test")
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "users")
    _tick(app, "people_grid", "Email", "clinic@demo.test")
    assert app.text_input(key=f"contact_name_{chris}").value == "Chris Chen"
    app.text_input(key=f"contact_name_{chris}").input("Typed, never saved")
    picker = next(box for box in app.selectbox if box.key.startswith(f"role_add_choice_{chris}_"))
    picker.select(picker.options[0])
    app.run()

    _tick(app, "people_grid", "Email", "clinicadmin@demo.test")
    assert app.text_input(key=f"contact_name_{carmen}").value == "Carmen Castillo"
    assert not any(key.endswith(f"_{chris}") or f"_{chris}_" in key for key in _widget_keys(app))
    assert next(box for box in app.selectbox
                if box.key.startswith(f"role_add_choice_{carmen}_")).value is None

    _tick(app, "people_grid", "Email", "clinic@demo.test")
    assert app.text_input(key=f"contact_name_{chris}").value == "Chris Chen"
    assert next(box for box in app.selectbox
                if box.key.startswith(f"role_add_choice_{chris}_")).value is None


def test_switching_client_accounts_never_carries_a_pick_to_another_person(app, demo_db,
                                                                          fake_clock_app):
    with demo_db.transaction(write=False) as session:
        ids = dict(session.execute(select(Account.name, Account.id)).all())
    erin, paul = _user_id(demo_db, "employer@demo.test"), _user_id(demo_db, "payor@demo.test")
    payor_account = next(i for name, i in ids.items() if "Harborline" not in name and any(
        row.email == "payor@demo.test" for row in _people(demo_db, i)))
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    harborline = ids["Harborline Freight Co."]
    account_picker(app).select(harborline).run()
    _tick(app, "ca_people_", "Email", "employer@demo.test")
    app.selectbox(key=f"ca_target_{harborline}_{erin}").select(ids["Cedar Ridge Fabrication"])
    app.selectbox(key=f"ca_role_{harborline}_{erin}").select("account_admin")
    app.run()

    account_picker(app).select(payor_account).run()
    assert "Select a person to add them to another account." in [c.value for c in app.caption]
    _tick(app, "ca_people_", "Email", "payor@demo.test")
    assert app.selectbox(key=f"ca_role_{payor_account}_{paul}").value is None
    assert app.button(key=f"ca_add_{payor_account}_{paul}").disabled
    assert not any(f"_{erin}" in key for key in _widget_keys(app) if key.startswith("ca_"))

    # Back to the first account: the same person is chosen again, with nothing picked for them.
    account_picker(app).select(harborline).run()
    assert list(app.session_state[_grid(app, "ca_people_").key]["selection"]["rows"]) == [0]
    assert app.selectbox(key=f"ca_role_{harborline}_{erin}").value is None


def _people(demo_db, account_id: int):
    from services.organizations import client_accounts

    return client_accounts.people_of(demo_db, principal_of(demo_db, "accounts@demo.test"),
                                     account_id=account_id)


def _two_invitations(demo_db) -> list[int]:
    from services.identity import memberships

    admin = principal_of(demo_db, "groupadmin@demo.test")
    offered = dict(memberships.grantable(demo_db, admin))
    staff = next(grant for label, grant in offered.items() if grant.role == Role.PROVIDER_STAFF)
    assert isinstance(staff, Grant)
    return [role_invitations.invite(demo_db, admin, email=email, name=name, role=staff)
            for email, name in (("first@example.org", "Fay First"),
                                ("second@example.org", "Sid Second"))]


def test_switching_invitations_acts_on_the_one_shown_and_says_when_it_leaves(app, demo_db,
                                                                             fake_clock_app):
    first, second = _two_invitations(demo_db)
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "users")
    _tick(app, "invitations_grid", "Email", "first@example.org")
    assert any(text.startswith("<p>Selected: first@example.org,") for text in literal_texts(app))
    assert f"invitation_cancel_{first}" in _widget_keys(app)

    _tick(app, "invitations_grid", "Email", "second@example.org")
    assert any(text.startswith("<p>Selected: second@example.org,") for text in literal_texts(app))
    assert not any(key.endswith(f"_{first}") for key in _widget_keys(app))

    # Cancelled, it leaves the list: nothing is chosen, and the note names it.
    app.button(key=f"invitation_cancel_{second}").click().run()
    assert list(_grid(app, "invitations_grid").value["Email"]) == ["first@example.org"]
    assert any(text.startswith("<p>The invitation to second@example.org (")
               and text.endswith("is no longer in this list, so no longer selected.</p>")
               for text in literal_texts(app))
    assert not any(text.startswith("<p>Selected:") for text in literal_texts(app))
    assert list(app.session_state[_grid(app, "invitations_grid").key]["selection"]["rows"]) == []
