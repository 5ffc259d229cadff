"""Support and account representatives choose why before the Reports screen lists a patient:
no rows until a purpose is chosen, rows after, asked again after another screen; each search
recorded with its purpose, a name filter only as used."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent
from services.privacy import incidents
from services.reports import access, search
from tests.conftest import principal_of
from tests.pages.conftest import open_screen, sign_in, titles

SUPPORT = "support@demo.test"
ACCOUNTS = "accounts@demo.test"
REASON = "reports_list_reason"
SEARCH = "FormSubmitter:report_filters-Search"


def _searches(db, email: str) -> list[dict]:
    with db.transaction(write=False) as session:
        return [e.details for e in session.scalars(
            select(AuditEvent).where(AuditEvent.actor_email == email,
                                     AuditEvent.action == "reports.searched")
            .order_by(AuditEvent.id))]


def _asked(app) -> bool:
    return any(s.key == REASON for s in app.selectbox)


def test_support_sees_no_patient_until_a_purpose_is_chosen_and_is_asked_again_later(
        app, demo_db, fake_clock_app):
    sign_in(app, SUPPORT)
    open_screen(app, "reports")
    assert titles(app) == ["Reports"] and _asked(app)
    assert app.selectbox(key=REASON).options == list(access.STAFF_PURPOSES)
    assert not app.dataframe and not app.get("form")  # no rows, no filters yet
    assert _searches(demo_db, SUPPORT) == []

    app.text_input(key="reports_list_reference").input("SR-77").run()
    app.selectbox(key=REASON).select("Quality or compliance review").run()
    assert not app.exception and len(app.dataframe) == 1 and len(app.dataframe[0].value) == 50
    [first] = _searches(demo_db, SUPPORT)
    assert (first["purpose"], first["reference"], first["filter"]) == (
        "Quality or compliance review", "SR-77", {})

    # A search by name is recorded as one, without the name.
    app.text_input(key="f_name").input("Garcia")
    app.button(key=SEARCH).click().run()
    assert not app.exception
    second = _searches(demo_db, SUPPORT)[-1]
    assert second["filter"] == {"name_filter": True} and "Garcia" not in str(second)
    assert second["visit"] == first["visit"]
    app.run()  # a rerun of the same search records nothing more
    assert len(_searches(demo_db, SUPPORT)) == 2

    open_screen(app, "")  # another screen (Home), then back
    assert titles(app) != ["Reports"]
    open_screen(app, "reports")
    assert _asked(app) and app.selectbox(key=REASON).value is None
    assert not app.dataframe
    app.selectbox(key=REASON).select("Support request from the client or clinic").run()
    # The new visit starts from the whole list, not the last visit's name search.
    assert len(app.dataframe) == 1 and len(app.dataframe[0].value) == 50
    third = _searches(demo_db, SUPPORT)[-1]
    assert third["purpose"] == "Support request from the client or clinic"
    assert third["visit"] != first["visit"] and "reference" not in third and third["filter"] == {}


def test_an_account_rep_is_asked_too_and_an_employer_is_not(app, demo_db, fake_clock_app):
    sign_in(app, ACCOUNTS)
    open_screen(app, "reports")
    assert _asked(app) and not app.dataframe


def test_an_employer_is_not_asked(app, demo_db, fake_clock_app):
    sign_in(app, "employer@demo.test")
    open_screen(app, "reports")
    assert not _asked(app) and len(app.dataframe) == 1
    assert _searches(demo_db, "employer@demo.test") == []


def test_an_incidents_link_starts_support_with_the_incident_review_purpose(app, demo_db,
                                                                            fake_clock_app):
    employer = principal_of(demo_db, "employer@demo.test")
    report_id = search.search(demo_db, employer, search.ReportFilter()).rows[0].id
    incidents.flag(demo_db, employer, report_id=report_id, note="Not our employee")
    support = principal_of(demo_db, SUPPORT)
    (row,) = incidents.queue(demo_db, support)
    sign_in(app, SUPPORT)
    app.query_params["report"] = str(report_id)
    app.query_params["incident"] = str(row.id)
    open_screen(app, "reports")
    assert not app.exception
    assert app.selectbox(key=REASON).value == "HIPAA incident review"
    assert app.text_input(key="reports_list_reference").value == f"INC-{row.id}"
    assert len(app.dataframe) == 1
    [recorded] = _searches(demo_db, SUPPORT)
    assert (recorded["purpose"], recorded["reference"]) == ("HIPAA incident review", f"INC-{row.id}")
