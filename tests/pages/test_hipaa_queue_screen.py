"""The privacy officer sees an employer's flag with the employer's access, assesses and closes it."""

from __future__ import annotations

from db.models import Incident
from services.privacy import incidents
from services.reports import access, search
from tests.conftest import principal_of
from tests.pages.conftest import open_screen, sign_in, titles


def test_privacy_officer_reviews_assesses_and_closes(app, demo_db, fake_clock_app):
    employer = principal_of(demo_db, "employer@demo.test")
    report = search.search(demo_db, employer, search.ReportFilter()).rows[0]
    access.open_report(demo_db, employer, report.id)
    [incident_id] = incidents.flag(demo_db, employer, report_id=report.id)

    sign_in(app, "privacy@demo.test")
    open_screen(app, "hipaa-queue")
    assert titles(app) == ["HIPAA queue"]
    assert app.dataframe[0].value["Incident"].tolist() == [incident_id]
    app.button(key="incident_take_next").click().run()
    assert [s.value for s in app.success] == [f"Incident {incident_id} is yours."]
    history = app.dataframe[1].value
    assert history[["Who", "What"]].values.tolist() == [["employer@demo.test", "opened"]]
    for key, text in (("nature", "Name and drug test result"), ("recipient", "Another employer"),
                      ("acquired", "Opened once"), ("mitigation", "Deletion attested")):
        app.text_area(key=f"factor_{key}").input(text)
    app.checkbox(key="attested").check()
    app.radio(key="incident_outcome").set_value("low_probability")
    app.button(key="FormSubmitter:assessment-Save assessment").click().run()
    app.text_area(key="incident_resolution").input("Removed; destruction attested.")
    app.button(key="FormSubmitter:closing-Close the incident").click().run()
    with demo_db.transaction(write=False) as session:
        closed = session.get(Incident, incident_id)
    assert (closed.status, closed.outcome) == ("closed", "low_probability")
    assert closed.assessment["attested_destroyed"] is True


def test_support_logs_a_phone_report_on_the_queue_screen(app, demo_db, fake_clock_app):
    employer = principal_of(demo_db, "employer@demo.test")
    report = search.search(demo_db, employer, search.ReportFilter()).rows[0]
    sign_in(app, "support@demo.test")
    open_screen(app, "hipaa-queue")
    app.number_input(key="phone_report_id").set_value(report.id)
    app.text_input(key="phone_account").input(employer.account_links[0].account_name)
    app.text_area(key="phone_note").input("Caller said it is not their employee")
    app.button(key="FormSubmitter:phone_report-Remove it from that account and open an incident").click().run()
    assert [s.value for s in app.success] == ["Incident opened."]
    assert report.id not in [r.id for r in search.search(
        demo_db, employer, search.ReportFilter()).rows]


def test_a_phone_report_for_an_account_nobody_has_is_refused_in_place(app, demo_db, fake_clock_app):
    employer = principal_of(demo_db, "employer@demo.test")
    report = search.search(demo_db, employer, search.ReportFilter()).rows[0]
    sign_in(app, "support@demo.test")
    open_screen(app, "hipaa-queue")
    app.number_input(key="phone_report_id").set_value(report.id)
    app.text_input(key="phone_account").input("Nobody Freight")
    app.button(key="FormSubmitter:phone_report-Remove it from that account and open an incident").click().run()
    assert [e.value for e in app.error] == ["No client account has that name."]
    assert not app.success
    assert report.id in [r.id for r in search.search(demo_db, employer, search.ReportFilter()).rows]
