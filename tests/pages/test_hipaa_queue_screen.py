"""The privacy officer sees an employer's flag with the employer's access, assesses and closes it."""

from __future__ import annotations

from db.models import Incident
from services.privacy import incidents
from services.reports import access, search
from services.statuses import IncidentStatus
from tests.conftest import principal_of
from tests.pages.conftest import literal_texts, open_screen, sign_in, titles


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
        app.text_area(key=f"factor_{key}_{incident_id}").input(text)
    app.checkbox(key=f"attested_{incident_id}").check()
    app.radio(key=f"incident_outcome_{incident_id}").set_value("low_probability")
    app.button(key=f"FormSubmitter:assessment_{incident_id}-Save assessment").click().run()
    app.text_area(key=f"incident_resolution_{incident_id}").input("Removed; destruction attested.")
    app.button(key=f"FormSubmitter:closing_{incident_id}-Close the incident").click().run()
    app.button(key="confirm_yes").click().run()
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


FIRST_ASSESSMENT = {"nature": "Name and drug test result", "recipient": "Another employer",
                    "acquired": "Opened once", "mitigation": "Deletion attested"}


def _two_incidents(demo_db) -> list[int]:
    employer = principal_of(demo_db, "employer@demo.test")
    reports = search.search(demo_db, employer, search.ReportFilter()).rows[:2]
    return [incidents.flag(demo_db, employer, report_id=r.id)[0] for r in reports]


def _grid_key(app) -> str:
    return next(frame.key for frame in app.dataframe if frame.key.startswith("incident_grid_"))


def _tick(app, row: int | None) -> None:
    """What a click on the grid's checkbox column does (AppTest cannot click the canvas grid)."""
    app.session_state[_grid_key(app)] = {"selection": {"rows": [] if row is None else [row]}}
    app.run()


def _ticked(app) -> list[int]:
    """The rows the grid shows ticked (none when no grid is drawn)."""
    keys = [frame.key for frame in app.dataframe if frame.key.startswith("incident_grid_")]
    return list(app.session_state[keys[0]]["selection"]["rows"]) if keys else []


def _panel(app, incident_id: int) -> dict[str, object]:
    """What the incident's assessment and closing forms show."""
    shown = {key: app.text_area(key=f"factor_{key}_{incident_id}").value for key in incidents.FACTORS}
    shown["attested"] = app.checkbox(key=f"attested_{incident_id}").value
    shown["outcome"] = app.radio(key=f"incident_outcome_{incident_id}").value
    shown["resolution"] = app.text_area(key=f"incident_resolution_{incident_id}").value
    return shown


def _widget_keys(app) -> set[str]:
    return {w.key for w in app.text_area} | {w.key for w in app.checkbox} | {w.key for w in app.radio}


NEVER_ASSESSED = {**dict.fromkeys(incidents.FACTORS, ""), "attested": False, "outcome": None,
                  "resolution": ""}


def test_switching_incidents_shows_each_ones_own_saved_assessment(app, demo_db, fake_clock_app):
    first, second = _two_incidents(demo_db)
    sign_in(app, "privacy@demo.test")
    open_screen(app, "hipaa-queue")
    assert app.dataframe[0].value["Incident"].tolist() == [first, second]

    _tick(app, 0)
    assert [s.value for s in app.header] == [f"Incident {first}: Open"]
    assert _panel(app, first) == NEVER_ASSESSED
    for key, text in FIRST_ASSESSMENT.items():
        app.text_area(key=f"factor_{key}_{first}").input(text)
    app.checkbox(key=f"attested_{first}").check()
    app.radio(key=f"incident_outcome_{first}").set_value("low_probability")
    app.button(key=f"FormSubmitter:assessment_{first}-Save assessment").click().run()
    assert [s.value for s in app.success] == [f"Incident {first}: assessment saved."]
    app.text_area(key=f"incident_resolution_{first}").input("Typed, never saved")
    app.run()

    _tick(app, 1)
    assert [s.value for s in app.header] == [f"Incident {second}: Open"]
    assert not any(key.endswith(f"_{first}") for key in _widget_keys(app))
    assert _panel(app, second) == NEVER_ASSESSED
    app.text_area(key=f"factor_nature_{second}").input("Typed for the second, never saved")
    app.run()

    _tick(app, 0)
    assert _panel(app, first) == {**FIRST_ASSESSMENT, "attested": True,
                                  "outcome": "low_probability", "resolution": ""}
    _tick(app, 1)
    assert _panel(app, second) == NEVER_ASSESSED


def test_closing_asks_first_names_the_incident_and_clears_the_tick(app, demo_db, fake_clock_app):
    first, second = _two_incidents(demo_db)
    privacy = principal_of(demo_db, "privacy@demo.test")
    incidents.assess(demo_db, privacy, incident_id=first, factors=FIRST_ASSESSMENT,
                     outcome="low_probability", attested_destroyed=True)
    detail = incidents.detail(demo_db, privacy, incident_id=first)
    sign_in(app, "privacy@demo.test")
    open_screen(app, "hipaa-queue")
    _tick(app, 0)
    app.button(key=f"FormSubmitter:closing_{first}-Close the incident").click().run()
    assert [e.value for e in app.error] == ["Say how the incident was resolved."]
    assert "confirm_yes" not in {b.key for b in app.button}
    app.text_area(key=f"incident_resolution_{first}").input("Removed; destruction attested.")
    app.button(key=f"FormSubmitter:closing_{first}-Close the incident").click().run()
    named = " ".join(literal_texts(app))
    assert f"Incident {first}: report {detail.report_id}" in named
    assert f"received in error by {detail.wrong_account}" in named
    assert app.button(key="confirm_yes").label == f"Close incident {first}"

    app.button(key="confirm_cancel").click().run()
    assert incidents.detail(demo_db, privacy, incident_id=first).status == IncidentStatus.OPEN
    assert [s.value for s in app.header] == [f"Incident {first}: Open"]
    assert _ticked(app) == [0]

    app.button(key=f"FormSubmitter:closing_{first}-Close the incident").click().run()
    app.button(key="confirm_yes").click().run()
    assert incidents.detail(demo_db, privacy, incident_id=first).status == IncidentStatus.CLOSED
    # The same run shows the list without it, nothing ticked, no panel, and says why.
    assert app.dataframe[0].value["Incident"].tolist() == [second]
    assert _ticked(app) == []
    assert not app.header
    assert [s.value for s in app.success] == [f"Incident {first}: closed."]
    assert [i.value for i in app.info] == [
        f"Incident {first} is no longer in this list, so no longer selected."]
    assert incidents.detail(demo_db, privacy, incident_id=second).status == IncidentStatus.OPEN


def test_taking_the_next_one_opens_it_and_moves_the_tick_to_it(app, demo_db, fake_clock_app):
    first, second = _two_incidents(demo_db)
    sign_in(app, "privacy@demo.test")
    open_screen(app, "hipaa-queue")
    _tick(app, 1)
    assert [s.value for s in app.header] == [f"Incident {second}: Open"]
    app.button(key="incident_take_next").click().run()
    # The oldest one is taken and opened; the old tick does not pull the panel back.
    assert [s.value for s in app.success] == [f"Incident {first} is yours."]
    assert [s.value for s in app.header] == [f"Incident {first}: In review"]
    assert _ticked(app) == [0]
    app.run()
    assert [s.value for s in app.header] == [f"Incident {first}: In review"]
    _tick(app, 1)
    app.button(key=f"incident_claim_{second}").click().run()
    assert [s.value for s in app.header] == [f"Incident {second}: In review"]
    assert _ticked(app) == [1]


def test_a_filter_that_leaves_the_chosen_incident_out_clears_it_and_says_so(app, demo_db, fake_clock_app):
    first, second = _two_incidents(demo_db)
    sign_in(app, "privacy@demo.test")
    open_screen(app, "hipaa-queue")
    _tick(app, 1)
    app.toggle(key="incident_mine").set_value(True).run()
    assert [i.value for i in app.info] == [
        f"Incident {second} is no longer in this list, so no longer selected.", "No incidents here."]
    app.toggle(key="incident_mine").set_value(False).run()
    assert _ticked(app) == [] and not app.header
