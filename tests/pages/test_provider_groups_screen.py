"""The Provider groups screen through the real app.py: a group admin lands on their group and
registers a provider that the table shows in the same run; deactivating asks first; a provider
admin sees only their provider and cannot rename it; support picks any group and moves a
provider only after choosing a group and confirming; adding a person preselects Provider staff."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Membership, Provider, User
from services.organizations import npi
from tests.pages.conftest import open_screen, sign_in, titles

NEW_NPI = "1999999990"[:9] + npi.check_digit("199999999")


def _providers_table(at):
    return next(frame for frame in at.dataframe if "NPI" in frame.value.columns).value


def _box(at, label):
    """The selectbox with this label (the group and provider pickers' keys change with their
    labels)."""
    return next(box for box in at.selectbox if box.label == label)


def _type(at, key, value):
    at.text_input(key=key).input(value)


def test_a_group_admin_registers_a_provider_and_sees_it_at_once(app, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "provider-groups")
    assert not app.exception
    assert titles(app) == ["Provider groups"]
    assert not [box for box in app.selectbox if box.label == "Provider group"]  # lands on their own
    table = _providers_table(app)
    assert len(table) == 3 and set(table["Status"]) == {"active"}
    assert all(table["Phone"]) and all(table["Provider type"])
    group_id = next(key for key in (t.key for t in app.text_input) if key and key.startswith("pg_new_"))
    prefix = group_id.rsplit("_", 1)[0]  # pg_new_<group id>
    _type(app, f"{prefix}_npi", NEW_NPI)
    _type(app, f"{prefix}_name", "Sunbelt Occupational Medicine - Austin")
    _type(app, f"{prefix}_state", "TX")
    app.button(key=f"FormSubmitter:pg_register_form_{prefix.rsplit('_', 1)[1]}-Register provider").click().run()
    assert [s.value for s in app.success] == [f"Provider with NPI {NEW_NPI} registered."]
    table = _providers_table(app)
    assert len(table) == 4 and NEW_NPI in list(table["NPI"])
    assert app.text_input(key=f"{prefix}_npi").value == ""  # the form is empty again
    # The same NPI again: the one message, and the typed values stay.
    _type(app, f"{prefix}_npi", NEW_NPI)
    _type(app, f"{prefix}_name", "Again")
    app.button(key=f"FormSubmitter:pg_register_form_{prefix.rsplit('_', 1)[1]}-Register provider").click().run()
    assert [e.value for e in app.error] == [
        "This NPI cannot be registered: it is already registered in the portal. Check the "
        "number, or contact support."]
    assert app.text_input(key=f"{prefix}_name").value == "Again"


def test_deactivating_asks_first_and_the_table_shows_it(app, demo_db, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "provider-groups")
    with demo_db.transaction(write=False) as session:
        tampa = session.scalars(select(Provider).where(Provider.name.like("%Tampa"))).one()
    picker = _box(app, "Provider")
    assert picker.value is None  # nothing chosen until the admin picks
    picker.set_value(tampa.id).run()
    app.button(key=f"pg_deactivate_{tampa.id}").click().run()
    assert app.button(key="confirm_yes").label == "Deactivate"
    app.button(key="confirm_cancel").click().run()
    with demo_db.transaction(write=False) as session:
        assert session.get(Provider, tampa.id).deactivated_at is None
    app.button(key=f"pg_deactivate_{tampa.id}").click().run()
    app.button(key="confirm_yes").click().run()
    table = _providers_table(app)
    assert dict(zip(table["NPI"], table["Status"]))[tampa.npi] == "deactivated"
    assert [button.key for button in app.button if button.key.startswith("pg_reactivate_")] == [
        f"pg_reactivate_{tampa.id}"]
    assert _box(app, "Provider").value == tampa.id  # still chosen, under its new label


def test_a_provider_admin_sees_their_provider_only_and_edits_its_contact_details(app, demo_db,
                                                                                fake_clock_app):
    sign_in(app, "clinicadmin@demo.test")
    open_screen(app, "provider-groups")
    table = _providers_table(app)
    assert list(table["Provider"]) == ["Sunbelt Occupational Medicine - Houston"]
    assert not any(t.key and t.key.startswith("pg_new_") for t in app.text_input)  # no register form
    picker = _box(app, "Provider")
    assert len(picker.options) == 1
    with demo_db.transaction(write=False) as session:
        houston = session.scalars(select(Provider).where(Provider.name.like("%Houston"))).one()
    picker.set_value(houston.id).run()
    assert app.text_input(key=f"pg_edit_{houston.id}_name").disabled
    assert not app.text_input(key=f"pg_edit_{houston.id}_fax").disabled
    _type(app, f"pg_edit_{houston.id}_fax", "(713) 555-0999")
    app.button(key=f"FormSubmitter:pg_edit_form_{houston.id}-Save details").click().run()
    assert [s.value for s in app.success] == ["Provider details saved."]
    assert "(713) 555-0999" in list(_providers_table(app)["Fax"])
    assert not any(b.key.startswith("pg_deactivate_") for b in app.button)


def test_support_moves_a_provider_after_choosing_a_group_and_confirming(app, demo_db,
                                                                        fake_clock_app):
    sign_in(app, "support@demo.test")
    open_screen(app, "provider-groups")
    groups = _box(app, "Provider group")
    assert len(groups.options) == 2
    with demo_db.transaction(write=False) as session:
        tampa = session.scalars(select(Provider).where(Provider.name.like("%Tampa"))).one()
        summit = session.scalar(select(Provider.group_id).where(Provider.name.like("Summit%")))
    groups.set_value(tampa.group_id).run()
    _box(app, "Provider").set_value(tampa.id).run()
    assert app.button(key=f"pg_move_{tampa.id}").disabled  # no group chosen yet
    app.selectbox(key=f"pg_move_to_{tampa.id}").set_value(summit).run()
    app.text_area(key=f"pg_move_reason_{tampa.id}").input("Clinic sold to Summit").run()
    app.button(key=f"pg_move_{tampa.id}").click().run()
    assert app.button(key="confirm_yes").label == "Move provider"
    app.button(key="confirm_yes").click().run()
    [moved] = [s.value for s in app.success]
    assert moved.startswith("Provider moved, with ")
    assert _box(app, "Provider group").value == summit  # follows the provider
    assert "Sunbelt Occupational Medicine - Tampa" in list(_providers_table(app)["Provider"])


def test_adding_a_person_preselects_provider_staff(app, demo_db, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "provider-groups")
    with demo_db.transaction(write=False) as session:
        chris = session.scalar(select(User.id).where(User.email == "clinic@demo.test"))
        dallas = session.scalars(select(Provider).where(Provider.name.like("%Dallas"))).one()
    person = _box(app, "Person")
    assert person.value is None
    person.set_value(chris).run()
    group_id = dallas.group_id
    assert app.selectbox(key=f"pg_add_role_{group_id}_{chris}").value == "provider_staff"
    assert app.button(key=f"pg_add_{group_id}_{chris}").disabled  # no provider chosen yet
    app.selectbox(key=f"pg_add_provider_{group_id}_{chris}").set_value(dallas.id).run()
    app.button(key=f"pg_add_{group_id}_{chris}").click().run()
    assert [s.value for s in app.success] == ["Added as Provider staff."]
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(Membership.role).where(
            Membership.user_id == chris, Membership.provider_id == dallas.id)) == "provider_staff"
    roles = next(frame for frame in app.dataframe if "Roles" in frame.value.columns).value
    assert "Sunbelt Occupational Medicine - Dallas" in dict(zip(roles["Email"], roles["Roles"]))[
        "clinic@demo.test"]
