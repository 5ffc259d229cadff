"""The Dashboard screen in AppTest: who gets it, its numbers, its filters, and no patient on it."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Patient
from services.insight import dashboard
from tests.conftest import principal_of
from tests.pages.conftest import open_screen, screens, sign_in, titles


def _metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _charts(at) -> list:
    return at.get("vega_lite_chart")


def test_a_manager_sees_volume_turnaround_and_adoption_for_the_demo_data(app, demo_db, fake_clock_app):
    sign_in(app, "manager@demo.test")
    assert "dashboard" in screens(app)
    open_screen(app, "dashboard")
    assert titles(app) == ["Dashboard"] and not app.exception
    start, end = app.date_input(key="dash_period").value
    expected = dashboard.overview(demo_db, principal_of(demo_db, "manager@demo.test"),
                                  dashboard.DashboardFilter(start=start, end=end))
    assert expected.totals["reports"] > 0
    shown = _metrics(app)
    assert shown["Reports posted"] == f"{expected.totals['reports']:,}"
    assert shown["Non-injury ≤ 72 h"] == f"{expected.totals['non_injury_within_72h']:.1f} %"
    assert "Open incidents" in shown
    assert [tab.label for tab in app.tabs] == ["Volume", "Turnaround", "Adoption", "Archive",
                                               "HIPAA incidents"]
    assert len(_charts(app)) == 1  # only the open tab is drawn
    volume = app.dataframe[0].value
    assert volume.drop(columns="Week starting").to_numpy().sum() == expected.totals["reports"]
    for tab, charts in (("Turnaround", 1), ("Adoption", 3), ("Archive", 1)):
        app.session_state["dash_tab"] = tab
        app.run()
        assert len(_charts(app)) == charts and not app.exception, tab
    turnaround = expected.turnaround
    app.session_state["dash_tab"] = "Turnaround"
    app.run()
    shown = app.dataframe[0].value
    assert shown["non-injury reports"].sum() == turnaround["non-injury reports"].sum()
    app.session_state["dash_tab"] = "HIPAA incidents"
    app.run()
    assert [i.value for i in app.info] == ["No HIPAA incidents have been logged."]


def test_filters_narrow_the_numbers(app, demo_db, fake_clock_app):
    sign_in(app, "manager@demo.test")
    open_screen(app, "dashboard")
    everything = int(_metrics(app)["Reports posted"].replace(",", ""))
    app.multiselect(key="dash_types").set_value(["ccf"]).run()
    only_ccf = int(_metrics(app)["Reports posted"].replace(",", ""))
    assert 0 < only_ccf < everything
    assert list(app.dataframe[0].value.columns) == ["Week starting", "Custody and control form (CCF)"]
    app.selectbox(key="dash_split").set_value("account").run()
    accounts = set(app.dataframe[0].value.columns) - {"Week starting"}
    assert accounts and accounts <= {"Harborline Freight Co.", "Cedar Ridge Fabrication",
                                     "Bluebonnet Market Group", "Prairie Mutual Insurance",
                                     "Keystone Casualty Company", "Northgate Claims Services"}
    app.radio(key="dash_grain").set_value("month").run()
    assert "Month" in app.dataframe[0].value.columns and not app.exception


def test_no_patient_name_or_employee_id_appears_on_the_screen(app, demo_db, fake_clock_app):
    with demo_db.transaction(write=False) as session:
        patients = session.execute(select(Patient.first_name, Patient.last_name,
                                          Patient.employee_id)).all()
    identifiers = {value for row in patients for value in row}
    sign_in(app, "manager@demo.test")
    open_screen(app, "dashboard")
    views = [("Volume", split) for split in dashboard.SPLITS] + [
        (tab, "report_type") for tab in ("Turnaround", "Adoption", "Archive", "HIPAA incidents")]
    for tab, split in views:
        app.session_state["dash_tab"] = tab
        app.selectbox(key="dash_split").set_value(split).run()
        cells = {str(value) for frame in app.dataframe for value in frame.value.to_numpy().ravel()}
        cells |= {str(column) for frame in app.dataframe for column in frame.value.columns}
        texts = " ".join(element.value for element in [*app.markdown, *app.caption, *app.header])
        assert not cells & identifiers, split
        assert not any(f" {name} " in f" {texts} " for name in identifiers if len(name) > 3)


def test_account_reps_see_no_incident_counts_and_clients_no_dashboard(app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "dashboard")
    assert titles(app) == ["Dashboard"]
    assert "HIPAA incidents" not in [tab.label for tab in app.tabs]
    assert "Open incidents" not in _metrics(app)


def test_a_client_user_has_no_dashboard(app, demo_db, fake_clock_app):
    sign_in(app, "employer@demo.test")
    assert "dashboard" not in screens(app)
    open_screen(app, "dashboard")
    assert "Dashboard" not in titles(app)
