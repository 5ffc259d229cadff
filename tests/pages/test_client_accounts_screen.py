"""An account representative adds an employer's user to another account."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Account, AccountMembership, RoleInvitation, User
from pages.screens.client_accounts import PICKER_PREFIX
from tests.pages.conftest import literal_texts, open_screen, sign_in, titles


def account_picker(app):
    """The Account picker (its key changes with its labels, see client_accounts._pick_account)."""
    return next(box for box in app.selectbox if box.key.startswith(PICKER_PREFIX))


def _people_grid(app):
    return next(frame for frame in app.dataframe if frame.key.startswith("ca_people_"))


def _offered(app, keys: str) -> set[str]:
    """The accounts "Add to account" offers, by name (each label ends with its kind and size)."""
    return {label.rsplit(" (", 1)[0] for label in app.selectbox(key=f"ca_target_{keys}").options}


def test_account_rep_adds_a_user_to_another_account(app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    assert titles(app) == ["Client accounts"]
    with demo_db.transaction(write=False) as session:
        ids = dict(session.execute(select(Account.name, Account.id)).all())
    account_picker(app).select(ids["Harborline Freight Co."]).run()
    grid = _people_grid(app).value
    assert list(grid["Email"]) == ["employer@demo.test"]
    app.session_state[_people_grid(app).key] = {"selection": {"rows": [0]}}
    app.run()
    with demo_db.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.email == "employer@demo.test"))
    keys = f"{ids['Harborline Freight Co.']}_{user_id}"
    assert _offered(app, keys) >= {"Cedar Ridge Fabrication"}
    assert "Harborline Freight Co." not in _offered(app, keys)
    app.selectbox(key=f"ca_target_{keys}").select(ids["Cedar Ridge Fabrication"]).run()
    # No role is chosen for the representative: Add waits for one.
    assert app.selectbox(key=f"ca_role_{keys}").value is None
    assert app.button(key=f"ca_add_{keys}").disabled
    app.selectbox(key=f"ca_role_{keys}").select("account_user").run()
    app.button(key=f"ca_add_{keys}").click().run()
    assert [s.value for s in app.success] == ["Added to the account."]
    with demo_db.transaction(write=False) as session:
        held = session.scalars(select(AccountMembership.account_id)
                               .where(AccountMembership.user_id == user_id)).all()
    assert len(held) == 2
    # The account just given is not offered again, and the role starts empty again.
    assert not {"Cedar Ridge Fabrication", "Harborline Freight Co."} & _offered(app, keys)
    assert app.selectbox(key=f"ca_role_{keys}").value is None


def _account_id(demo_db, name: str) -> int:
    with demo_db.transaction(write=False) as session:
        return session.scalar(select(Account.id).where(Account.name == name))


def _fill(app, values: dict[str, str]) -> None:
    for key, value in values.items():
        app.text_input(key=key).input(value)


def test_account_rep_creates_an_account_which_is_then_the_one_shown(app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    # No kind is chosen until the representative picks one: creating without refuses.
    assert app.selectbox(key="ca_new_kind").value is None
    _fill(app, {"ca_new_name": "Brightwater [Logistics](https://x.example)",
                "ca_new_ref": "CRM-42", "ca_new_contact_name": "Dana Lee",
                "ca_new_contact_email": "dana@brightwater.test"})
    app.button(key="FormSubmitter:ca_new-Create account").click().run()
    assert [e.value for e in app.error] == ["Choose the kind of account: employer, payor or TPA."]
    assert _account_id(demo_db, "Brightwater [Logistics](https://x.example)") is None
    app.selectbox(key="ca_new_kind").select("employer")
    app.button(key="FormSubmitter:ca_new-Create account").click().run()
    assert [s.value for s in app.success] == ["Client account created: it is chosen below."]
    new_id = _account_id(demo_db, "Brightwater [Logistics](https://x.example)")
    assert account_picker(app).value == new_id
    # Its details are shown as typed (never as Markdown), and the form is empty again.
    texts = literal_texts(app)
    assert "<p>Kind: Employer</p>" in texts and "<p>External reference: CRM-42</p>" in texts
    assert "<p>Main contact: Dana Lee, dana@brightwater.test</p>" in texts
    assert app.text_input(key="ca_new_name").value == ""
    assert app.selectbox(key="ca_new_kind").value is None
    # A second account with the same name is refused with the reason.
    app.selectbox(key="ca_new_kind").select("payor")
    _fill(app, {"ca_new_name": "brightwater [logistics](https://x.example)",
                "ca_new_contact_name": "X", "ca_new_contact_email": "x@y.test"})
    app.button(key="FormSubmitter:ca_new-Create account").click().run()
    assert [e.value for e in app.error] == [
        "Another client account already has this name: choose a different name."]


def test_editing_details_belongs_to_the_account_and_shows_at_once(app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    harbor, cedar = (_account_id(demo_db, n) for n in ("Harborline Freight Co.", "Cedar Ridge Fabrication"))
    account_picker(app).select(harbor).run()
    assert app.text_input(key=f"ca_edit_kind_{harbor}").disabled
    _fill(app, {f"ca_edit_name_{harbor}": "Harborline Freight", f"ca_edit_contact_name_{harbor}":
                "Hal Harbor", f"ca_edit_contact_email_{harbor}": "hal@harborline.test"})
    # Switching accounts shows that account's own values, not what was typed for the other.
    account_picker(app).select(cedar).run()
    assert app.text_input(key=f"ca_edit_name_{cedar}").value == "Cedar Ridge Fabrication"
    account_picker(app).select(harbor).run()
    # Back on the first account, what was typed and never saved is gone: its stored values show.
    assert app.text_input(key=f"ca_edit_name_{harbor}").value == "Harborline Freight Co."
    assert app.text_input(key=f"ca_edit_contact_name_{harbor}").value == "Portal contact"
    # An account keeps a main contact: saving without one asks for it and changes nothing.
    _fill(app, {f"ca_edit_contact_name_{harbor}": " "})
    app.button(key=f"FormSubmitter:ca_edit_{harbor}-Save details").click().run()
    with demo_db.transaction(write=False) as session:
        assert session.get(Account, harbor).contact_name == "Portal contact"
    assert [e.value for e in app.error] == ["Enter the name of the account's main contact."]
    _fill(app, {f"ca_edit_name_{harbor}": "Harborline Freight", f"ca_edit_contact_name_{harbor}":
                "Hal Harbor", f"ca_edit_contact_email_{harbor}": "hal@harborline.test"})
    app.button(key=f"FormSubmitter:ca_edit_{harbor}-Save details").click().run()
    assert [s.value for s in app.success] == ["Details saved."]
    labels = account_picker(app).options
    assert any(label.startswith("Harborline Freight (Employer") for label in labels)
    assert "<p>Main contact: Hal Harbor, hal@harborline.test, (555) 010-2000</p>" in literal_texts(app)


def test_deactivating_asks_naming_how_many_lose_access_and_takes_the_account_out_of_offers(
        app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    harbor, cedar = (_account_id(demo_db, n) for n in ("Harborline Freight Co.", "Cedar Ridge Fabrication"))
    account_picker(app).select(cedar).run()
    app.button(key=f"ca_status_{cedar}").click().run()
    texts = literal_texts(app)
    assert "<p>Deactivate Cedar Ridge Fabrication (Employer)?</p>" in texts
    assert any("will lose access to it at once; their other accounts stay" in t for t in texts)
    assert app.button(key="confirm_yes").label == "Deactivate"
    app.button(key="confirm_cancel").click().run()
    with demo_db.transaction(write=False) as session:
        assert session.get(Account, cedar).deactivated_at is None
    app.button(key=f"ca_status_{cedar}").click().run()
    app.button(key="confirm_yes").click().run()
    with demo_db.transaction(write=False) as session:
        assert session.get(Account, cedar).deactivated_at is not None
    assert [s.value for s in app.success][0].startswith("Account deactivated:")
    label = dict(zip(account_picker(app).options, [None] * 99))
    assert any(option.startswith("Cedar Ridge Fabrication (") and option.endswith(", deactivated)")
               for option in label)
    assert app.button(key=f"ca_status_{cedar}").label == "Reactivate account"
    # Elsewhere on the screen the deactivated account is no longer offered to add people to.
    account_picker(app).select(harbor).run()
    app.session_state[_people_grid(app).key] = {"selection": {"rows": [0]}}
    app.run()
    with demo_db.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.email == "employer@demo.test"))
    assert "Cedar Ridge Fabrication" not in _offered(app, f"{harbor}_{user_id}")


def test_inviting_the_first_admin_needs_the_address_twice_and_asks_first(app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    cedar = _account_id(demo_db, "Cedar Ridge Fabrication")
    account_picker(app).select(cedar).run()
    assert "Invite the account's first admin" in [h.value for h in app.subheader]
    _fill(app, {f"ca_invite_email_{cedar}": "ada@cedar.test",
                f"ca_invite_email_again_{cedar}": "ada@cedr.test",
                f"ca_invite_name_{cedar}": "Ada Admin"})
    app.button(key=f"FormSubmitter:ca_invite_{cedar}-Send invitation").click().run()
    assert [e.value for e in app.error] == [
        "The two email addresses are not the same: type the address again in both fields."]
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(RoleInvitation)) == 0
    app.text_input(key=f"ca_invite_email_again_{cedar}").input("ada@cedar.test")
    app.button(key=f"FormSubmitter:ca_invite_{cedar}-Send invitation").click().run()
    assert ("<p>Ada Admin (ada@cedar.test) will be offered: Client account admin of "
            "Cedar Ridge Fabrication.</p>") in literal_texts(app)
    app.button(key="confirm_yes").click().run()
    assert [s.value for s in app.success][0].startswith("Invitation sent.")
    with demo_db.transaction(write=False) as session:
        invitation = session.scalars(select(RoleInvitation)).one()
    assert (invitation.email, invitation.role, invitation.account_id) == (
        "ada@cedar.test", "account_admin", cedar)
    assert app.text_input(key=f"ca_invite_email_{cedar}").value == ""
