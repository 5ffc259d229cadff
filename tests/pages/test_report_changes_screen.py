"""A report's view for its clinic (post a correction, withdraw) and for a recipient who follows a
link to a report the clinic withdrew or replaced."""

from __future__ import annotations

from db.models import ReportRecipient
from services import clock
from services.reports import access, corrections, search
from services.reports.search import ReportFilter
from tests.conftest import principal_of
from tests.pages.conftest import APP, open_screen, sign_in

CLINIC_ADMIN = "clinicadmin@demo.test"
CLINIC_STAFF = "clinic@demo.test"
EMPLOYER = "employer@demo.test"


def _shared_report(db) -> int:
    """A report of the clinic admin's clinic, sent to the employer's account too (the small demo
    data set may send that clinic's few reports elsewhere)."""
    report_id = search.search(db, principal_of(db, CLINIC_ADMIN), ReportFilter()).rows[0].id
    account_id = principal_of(db, EMPLOYER).account_links[0].account_id
    with db.transaction() as session:
        if session.get(ReportRecipient, (report_id, account_id)) is None:
            session.add(ReportRecipient(report_id=report_id, account_id=account_id,
                                        routed_at=clock.now()))
    return report_id


def _open_by_link(app, email: str, report_id: int):
    sign_in(app, email)
    app.query_params["report"] = str(report_id)
    return open_screen(app, "reports")


def _expanders(app) -> list[str]:
    return [e.label for e in app.expander]


def test_a_clinic_admin_may_correct_and_withdraw_and_staff_only_correct(app, demo_db, fake_clock_app):
    report_id = _shared_report(demo_db)
    _open_by_link(app, CLINIC_ADMIN, report_id)
    assert not app.exception
    assert {"Post a correction", "Withdraw"} <= set(_expanders(app))
    # Nothing to act on until a file or a reason is chosen.
    assert app.button(key=f"correct_{report_id}").disabled
    assert app.button(key=f"withdraw_{report_id}").disabled
    assert app.selectbox(key=f"withdraw_reason_{report_id}").value is None


def test_provider_staff_may_correct_but_not_withdraw(app, demo_db, fake_clock_app):
    report_id = _shared_report(demo_db)
    _open_by_link(app, CLINIC_STAFF, report_id)
    assert "Post a correction" in _expanders(app) and "Withdraw" not in _expanders(app)


def test_a_recipient_is_offered_neither(app, demo_db, fake_clock_app):
    _open_by_link(app, EMPLOYER, _shared_report(demo_db))
    assert not app.exception
    assert not {"Post a correction", "Withdraw"} & set(_expanders(app))


def test_a_withdrawn_report_tells_the_recipient_and_shows_the_clinic_who_opened_it(
        app, demo_db, fake_clock_app):
    report_id = _shared_report(demo_db)
    access.open_report(demo_db, principal_of(demo_db, EMPLOYER), report_id)
    when = corrections.withdraw(demo_db, principal_of(demo_db, CLINIC_ADMIN), report_id=report_id,
                                reason="duplicate")
    _open_by_link(app, EMPLOYER, report_id)
    assert [w.value for w in app.warning] == [
        f"Report {report_id} was withdrawn by the clinic on {when:%Y-%m-%d}."]
    assert not app.error and not app.get("download_button")

    clinic = type(app).from_file(APP, default_timeout=30).run()
    _open_by_link(clinic, CLINIC_ADMIN, report_id)
    assert not clinic.exception
    assert any(w.value.startswith("Withdrawn by the clinic on ") and w.value.endswith(": Duplicate.")
               for w in clinic.warning)
    assert "Who opened it before" in [h.value for h in clinic.subheader]
    opened = clinic.dataframe[0].value
    assert opened["What"].tolist() == ["Opened"]
    assert opened["Person"].tolist()[0].endswith(f"({EMPLOYER})")
    assert not {"Post a correction", "Withdraw"} & set(_expanders(clinic))
