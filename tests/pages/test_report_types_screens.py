"""The Report types screen and one account's report types section, as their users see them."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from services.reports import report_types
from tests.pages.conftest import literal_texts, open_screen, screens, sign_in, titles

TEXAS = "Texas DWC-73 work status report"


def _button(at, key):
    return next(button for button in at.button if button.key == key)


def _table(at):
    return at.dataframe[0].value


def test_only_a_system_admin_has_the_screen(app, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    assert "report-types" not in screens(app)
    open_screen(app, "report-types")
    assert "Report types" not in titles(app)


def test_the_admin_adds_a_type_and_the_list_shows_it_at_once(app, demo_db, fake_clock_app):
    sign_in(app, "admin@demo.test")
    assert "report-types" in screens(app)
    open_screen(app, "report-types")
    assert titles(app) == ["Report types"]
    table = _table(app)
    assert list(table["Code"]) == [t.code for t in report_types.all_types(demo_db)]
    assert int(table["Reports"].sum()) == 60  # the small demo's reports, every one counted once
    assert set(table["Status"]) == {"In use"}
    # The form starts with nothing chosen.
    assert app.radio(key="rt_new_injury").value is None
    assert app.multiselect(key="rt_new_kinds").value == []
    app.text_input(key="rt_new_name").input(TEXAS)
    app.text_input(key="rt_new_code").input("tx_dwc73")
    app.radio(key="rt_new_injury").set_value("Injury")
    app.multiselect(key="rt_new_kinds").set_value(["employer", "payor"])
    app.button(key="FormSubmitter:rt_add-Add report type").click().run()
    assert [s.value for s in app.success] == [
        f"Report type added: {TEXAS} (tx_dwc73). Clinics can post it now; it is chosen below."]
    row = _table(app).iloc[-1]
    assert (row["Name"], row["Code"], row["Injury"], row["Received by default by"], row["Status"],
            row["Reports"]) == (TEXAS, "tx_dwc73", "Injury", "Employers, Payors", "In use", 0)
    assert app.selectbox(key="rt_chosen").value == "tx_dwc73"
    # The form is empty again for the next type.
    assert app.text_input(key="rt_new_name").value == ""
    assert app.radio(key="rt_new_injury").value is None


def test_a_refused_type_says_why_and_adds_nothing(app, demo_db, fake_clock_app):
    sign_in(app, "admin@demo.test")
    open_screen(app, "report-types")
    app.text_input(key="rt_new_name").input("Patient referral")
    app.text_input(key="rt_new_code").input("Referral 2")
    app.radio(key="rt_new_injury").set_value("Non-injury")
    app.button(key="FormSubmitter:rt_add-Add report type").click().run()
    assert [e.value for e in app.error] == [
        "The short code must be 2 to 32 lower-case letters, digits or underscores, for example tx_dwc73."]
    assert len(_table(app)) == 10
    # What was typed stays, to be corrected.
    assert app.text_input(key="rt_new_name").value == "Patient referral"


def test_retiring_asks_first_and_says_the_reports_stay(app, demo_db, fake_clock_app):
    sign_in(app, "admin@demo.test")
    open_screen(app, "report-types")
    app.selectbox(key="rt_chosen").select("ccf").run()
    _button(app, "rt_retire_ccf").click().run()
    asked = literal_texts(app)
    assert "<p>Retire Custody and control form (CCF) (ccf)?</p>" in asked
    assert any("stay where they were routed" in text for text in asked)
    _button(app, "confirm_cancel").click().run()
    assert not {t.code: t for t in report_types.all_types(demo_db)}["ccf"].retired
    _button(app, "rt_retire_ccf").click().run()
    _button(app, "confirm_yes").click().run()
    assert {t.code: t for t in report_types.all_types(demo_db)}["ccf"].retired
    table = _table(app)
    assert list(table[table["Code"] == "ccf"]["Status"]) == ["Retired 2026-11-20"]
    # Only what can apply: a retired type is taken back into use, not retired again.
    keys = {button.key for button in app.button}
    assert "rt_restore_ccf" in keys and "rt_retire_ccf" not in keys


def _account_section(account_name: str) -> None:
    """One account's section drawn for the account representative (as Client accounts does)."""
    from sqlalchemy import select

    from db.models import Account, User
    from pages.common import confirm, runtime
    from pages.screens import account_report_types
    from services import principals

    db = runtime.database()
    with db.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == "accounts@demo.test"))
        principal = principals.load(session, user)
        account_id = session.scalar(select(Account.id).where(Account.name == account_name))
    confirm.show_pending()
    account_report_types.render(principal, account_id)


def _section(demo_db, account_name: str) -> AppTest:
    return AppTest.from_function(_account_section, args=(account_name,), default_timeout=30).run()


def test_an_accounts_section_shows_each_active_type_and_what_it_receives(demo_db, fake_clock_app):
    at = _section(demo_db, "Prairie Mutual Insurance")
    assert [s.value for s in at.subheader] == ["Report types this account receives"]
    texts = literal_texts(at)
    assert "<p>Receives 8 report types: the standard set for its kind.</p>" in texts
    save = _button(at, "art_save_%d" % _account_id(demo_db, "Prairie Mutual Insurance"))
    assert save.disabled  # nothing changed yet


def _account_id(db, name: str) -> int:
    from sqlalchemy import select

    from db.models import Account

    with db.transaction(write=False) as session:
        return session.scalar(select(Account.id).where(Account.name == name))
