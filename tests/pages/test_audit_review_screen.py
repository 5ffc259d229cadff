"""Audit review: who accessed a report, what a user did, exporting, verifying the chain."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent
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
    assert grid[["Actor", "Action"]].values.tolist() == [["employer@demo.test", "report.opened"]]
    app.radio(key="audit_view").set_value("What a user did").run()
    app.text_input(key="audit_actor").input("employer@demo.test").run()
    assert set(app.dataframe[0].value["Actor"]) == {"employer@demo.test"}
    app.button(key="audit_verify").click().run()
    assert [s.value for s in app.success][-1].startswith("The audit chain is intact")
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "audit.verified")) == "audit.verified"
