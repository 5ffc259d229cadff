"""Removing a role, reopening an incident and inviting with an admin role ask first, naming
whom or what; Cancel changes nothing and confirming shows the change in the same run."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Membership, RoleInvitation, User
from services.privacy import incidents
from services.reports import search
from services.statuses import IncidentStatus
from tests.conftest import principal_of
from tests.pages.conftest import literal_texts, open_screen, sign_in


def _roles(demo_db, email):
    with demo_db.transaction(write=False) as session:
        return sorted(session.scalars(select(Membership.role).join(User, User.id == Membership.user_id)
                                      .where(User.email == email)).all())


def _button(at, prefix):
    return next(button for button in at.button if button.key.startswith(prefix))


def _tick_person(at, email):
    grid = next(frame for frame in at.dataframe if frame.key.startswith("people_grid"))
    at.session_state[grid.key] = {"selection": {"rows": [list(grid.value["Email"]).index(email)]}}
    return at.run()


def test_removing_a_role_asks_first_and_names_the_person(app, demo_db, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "users")
    _tick_person(app, "clinic@demo.test")
    before = _roles(demo_db, "clinic@demo.test")
    _button(app, "role_remove_").click().run()
    assert any(text.startswith("<p>Chris Chen (clinic@demo.test) will lose: Provider staff")
               for text in literal_texts(app))
    assert app.button(key="confirm_yes").label == "Remove the role"
    app.button(key="confirm_cancel").click().run()
    assert _roles(demo_db, "clinic@demo.test") == before and not app.success
    _button(app, "role_remove_").click().run()
    app.button(key="confirm_yes").click().run()
    assert _roles(demo_db, "clinic@demo.test") == []
    assert [s.value for s in app.success] == ["Role removed: done."]
    # With no role left at this admin's places he is out of their reach: the same run's list
    # no longer holds him, and his panel gives way to a note.
    grid = next(frame for frame in app.dataframe if frame.key.startswith("people_grid")).value
    assert "clinic@demo.test" not in list(grid["Email"])
    assert ("<p>Chris Chen (clinic@demo.test) is no longer in this list, so no longer "
            "selected.</p>") in literal_texts(app)
    assert not any(button.key.startswith("role_remove_") for button in app.button)


def _invitations(demo_db) -> int:
    with demo_db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(RoleInvitation))


def _fill_invite(app, label):
    app.text_input(key="invite_email").input("newadmin@example.org")
    app.text_input(key="invite_email_again").input("newadmin@example.org")
    app.text_input(key="invite_name").input("Nadia [Admin](https://x.example)")
    app.selectbox(key="invite_role").select(label)
    app.button(key="FormSubmitter:invite-Send invitation").click().run()


def _group_admin_inviting(app, role: str) -> str:
    """The group admin on Users; returns the invite form's label of `role` (at their provider)."""
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "users")
    return next(o for o in app.selectbox(key="invite_role").options if o.startswith(role))


def test_inviting_with_an_admin_role_asks_first(app, demo_db, fake_clock_app):
    admin_role = _group_admin_inviting(app, "Provider admin")
    _fill_invite(app, admin_role)
    assert (f"<p>Nadia [Admin](https://x.example) (newadmin@example.org) will be offered: "
            f"{admin_role}.</p>") in literal_texts(app)
    app.button(key="confirm_cancel").click().run()
    assert _invitations(demo_db) == 0 and not app.success
    _fill_invite(app, admin_role)
    app.button(key="confirm_yes").click().run()
    assert _invitations(demo_db) == 1
    assert [s.value.split(".")[0] for s in app.success] == ["Invitation sent"]
    waiting = next(frame for frame in app.dataframe if frame.key.startswith("invitations_grid"))
    assert list(waiting.value["Email"]) == ["newadmin@example.org"]


def test_inviting_with_a_role_that_gives_no_power_sends_at_once(app, demo_db, fake_clock_app):
    _fill_invite(app, _group_admin_inviting(app, "Provider staff"))
    assert "confirm_yes" not in {b.key for b in app.button}
    assert _invitations(demo_db) == 1


def test_reopening_an_incident_asks_first_and_names_it(app, demo_db, fake_clock_app):
    employer = principal_of(demo_db, "employer@demo.test")
    report = search.search(demo_db, employer, search.ReportFilter()).rows[0]
    incident_id = incidents.flag(demo_db, employer, report_id=report.id)[0]
    privacy = principal_of(demo_db, "privacy@demo.test")
    incidents.assess(demo_db, privacy, incident_id=incident_id,
                     factors=dict.fromkeys(incidents.FACTORS, "Done"),
                     outcome="low_probability", attested_destroyed=True)
    incidents.close(demo_db, privacy, incident_id=incident_id, resolution="Destroyed.")
    sign_in(app, "privacy@demo.test")
    open_screen(app, "hipaa-queue")
    app.selectbox(key="incident_status").select("closed").run()
    grid = next(frame.key for frame in app.dataframe if frame.key.startswith("incident_grid_"))
    app.session_state[grid] = {"selection": {"rows": [0]}}
    app.run()
    app.button(key=f"incident_reopen_{incident_id}").click().run()
    assert any(text.startswith(f"<p>Incident {incident_id}: report {report.id} (")
               for text in literal_texts(app))
    assert app.button(key="confirm_yes").label == f"Reopen incident {incident_id}"
    app.button(key="confirm_cancel").click().run()
    assert incidents.detail(demo_db, privacy, incident_id=incident_id).status == IncidentStatus.CLOSED
    app.button(key=f"incident_reopen_{incident_id}").click().run()
    app.button(key="confirm_yes").click().run()
    reopened = incidents.detail(demo_db, privacy, incident_id=incident_id)
    assert reopened.status == IncidentStatus.IN_REVIEW
    assert [s.value for s in app.success] == [f"Incident {incident_id}: reopened."]
    assert [i.value for i in app.info] == [
        f"Incident {incident_id} is no longer in this list, so no longer selected.",
        "No incidents here."]
