"""Audit review: who accessed a report, what a user did, exporting, verifying the chain."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent
from services import audit
from services.identity import memberships
from services.policy import Grant, Role
from services.reports import access, search
from tests.conftest import principal_of
from tests.pages.conftest import open_screen, sign_in


def test_who_accessed_a_report_and_the_chain_check(app, demo_db, fake_clock_app):
    employer = principal_of(demo_db, "employer@demo.test")
    report = search.search(demo_db, employer, search.ReportFilter()).rows[0]
    access.open_report(demo_db, employer, report.id)
    sign_in(app, "privacy@demo.test")
    open_screen(app, "audit")
    app.radio(key="audit_view").set_value("Who accessed a report").run()
    app.text_input(key="audit_report").input(str(report.id)).run()
    grid = app.dataframe[0].value
    assert grid[["Actor", "What happened"]].values.tolist() == [
        ["employer@demo.test", f"Report opened: Report {report.id}"]]
    app.radio(key="audit_view").set_value("What a user did").run()
    app.text_input(key="audit_actor").input("employer@demo.test").run()
    assert set(app.dataframe[0].value["Actor"]) == {"employer@demo.test"}
    app.button(key="audit_verify").click().run()
    assert [s.value for s in app.success][-1].startswith("The audit chain is intact")
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "audit.verified")) == "audit.verified"


def _second_employer_role(db, person) -> Grant:
    held = {link.account_id for link in person.account_links}
    return next(grant for _, grant in memberships.grantable(db, principal_of(db, "admin@demo.test"))
                if grant.role == Role.ACCOUNT_USER and grant.account_id not in held)


def test_the_trail_reads_in_words_and_filters_by_action_words(app, demo_db, fake_clock_app):
    erin = principal_of(demo_db, "employer@demo.test")
    role = _second_employer_role(demo_db, erin)
    memberships.grant(demo_db, principal_of(demo_db, "admin@demo.test"), user_id=erin.user_id, role=role)
    with demo_db.transaction(write=False) as session:
        place = memberships.label(session, role).split(": ", 1)[1]
    sign_in(app, "privacy@demo.test")
    open_screen(app, "audit")
    actions = app.multiselect(key="audit_actions")
    assert set(actions.options) == set(audit.ACTIONS.values())
    assert "user.role_granted" not in actions.options
    assert "Provider group" in app.selectbox(key="audit_target_type").options
    actions.set_value(["Role granted"]).run()
    grid = app.dataframe[0].value
    assert grid["What happened"].tolist() == [
        f"Role granted to Erin Ellis (user {erin.user_id}): Client account user at {place}"]
    assert grid["Details"][0].startswith(f"Role: Client account user at {place}; Roles before: ")
    assert grid["Outcome"].tolist() == ["Success"]
    app.multiselect(key="audit_actions").set_value(["Role granted", "Sign-in"]).run()
    app.selectbox(key="audit_outcome").set_value("failure").run()
    assert app.info[0].value == "No audit events match these filters."
