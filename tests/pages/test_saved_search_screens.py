"""Saved searches as an employer sees them: saved from Reports, listed on Home with what is new,
opened back onto Reports with every filter field showing the opened search, deleted after a
question. Names are the person's text and show exactly as typed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import Account, Patient, Provider
from pages.screens import saved_search_form
from services import clock
from services.reports import saved_searches, search
from services.reports.search import ReportFilter
from tests.conftest import principal_of
from tests.pages.conftest import APP, literal_texts, open_screen, sign_in, titles
from tests.services.report_world import add_report

EMPLOYER = "employer@demo.test"
SEARCH = "FormSubmitter:report_filters-Search"
SAVE = "FormSubmitter:save_search-Save search"


def _search_types(app, *types: str):
    app.multiselect(key="f_types").set_value(list(types))
    return app.button(key=SEARCH).click().run()


def _save(app, name: str):
    app.text_input(key=saved_search_form.NAME_KEY).input(name)
    return app.button(key=SAVE).click().run()


def _deliver(db, report_type: str, how_many: int) -> None:
    """Reports for the employer's account, delivered now (the fake clock)."""
    with db.transaction(write=False) as session:
        account = session.scalars(select(Account).where(Account.name == "Harborline Freight Co.")).one()
        patient = session.scalars(select(Patient.id).order_by(Patient.id)).first()
        provider = session.scalars(select(Provider.id).order_by(Provider.id)).first()
    for number in range(how_many):
        add_report(db, report_type=report_type, patient_id=patient, provider_id=provider,
                   posted_at=clock.now(), recipients=(account.id,),
                   label=f"saved-{report_type}-{number}-{clock.now().isoformat()}")


def _entries(db) -> dict[str, saved_searches.SavedSearchEntry]:
    return {e.name: e for e in saved_searches.listing(db, principal_of(db, EMPLOYER))}


def _open_from_home(app, db, name: str):
    return _open_from_home_as(app, db, EMPLOYER, name)


def test_saved_on_reports_listed_on_home_and_opened_back_with_its_filters(app, demo_db,
                                                                          fake_clock_app):
    sign_in(app, EMPLOYER)
    open_screen(app, "reports")
    _search_types(app, "ccf")
    _save(app, "Drug tests")
    assert not app.exception
    assert [s.value for s in app.success] == ["Search saved: Home lists it under Saved searches."]
    assert app.text_input(key=saved_search_form.NAME_KEY).value == ""
    # A second save under the same name is refused, with the typed name kept.
    _save(app, "drug TESTS")
    assert [e.value for e in app.error] == [
        "You already have a saved search with that name: choose another name."]

    fake_clock_app.advance(minutes=10)
    _deliver(demo_db, "ccf", 3)
    _deliver(demo_db, "atf", 1)
    open_screen(app, "home")
    assert "Saved searches" in [h.value for h in app.header]
    assert "<strong>Drug tests</strong>" in literal_texts(app)
    assert "<p>3 new since you last looked</p>" in literal_texts(app)

    # Elsewhere first: Reports with another search.
    open_screen(app, "reports")
    _search_types(app, "atf")
    _open_from_home(app, demo_db, "Drug tests")
    assert titles(app) == ["Reports"]
    assert app.multiselect(key="f_types").value == ["ccf"]
    assert app.session_state["reports_filter"] == ReportFilter(report_types=("ccf",))
    found = saved_searches.listing(demo_db, principal_of(demo_db, EMPLOYER))[0]
    assert found.new_label == "0"  # opening it was looking at it
    expected = search.count_label(*search.count(demo_db, principal_of(demo_db, EMPLOYER),
                                                ReportFilter(report_types=("ccf",))))
    count_line = [m.value for m in app.markdown if " · showing " in m.value]
    assert len(count_line) == 1 and count_line[0].startswith(f"**{expected}** results · showing 1–")


def test_switching_between_saved_searches_shows_each_ones_values(app, demo_db, fake_clock_app):
    principal = principal_of(demo_db, EMPLOYER)
    today = clock.now().date()
    saved_searches.save(demo_db, principal, name="Drug tests",
                        report_filter=ReportFilter(report_types=("ccf",), read="new"))
    saved_searches.save(demo_db, principal, name="Last week's alcohol",
                        report_filter=ReportFilter(report_types=("atf",), injury=False,
                                                   posted_from=today - timedelta(days=6),
                                                   posted_to=today),
                        posted_preset="Last 7 days")
    saved_searches.save(demo_db, principal, name="Everything", report_filter=ReportFilter())
    sign_in(app, EMPLOYER)

    _open_from_home(app, demo_db, "Drug tests")
    assert (app.multiselect(key="f_types").value, app.radio(key="f_read").value,
            app.radio(key="f_injury").value, app.selectbox(key="f_posted_preset").value) == (
        ["ccf"], "New (not opened by me)", "All", "Any time")

    _open_from_home(app, demo_db, "Last week's alcohol")
    assert (app.multiselect(key="f_types").value, app.radio(key="f_read").value,
            app.radio(key="f_injury").value, app.selectbox(key="f_posted_preset").value) == (
        ["atf"], "All", "Non-injury", "Last 7 days")

    _open_from_home(app, demo_db, "Everything")
    assert (app.multiselect(key="f_types").value, app.radio(key="f_read").value,
            app.radio(key="f_injury").value, app.selectbox(key="f_posted_preset").value) == (
        [], "All", "All", "Any time")
    assert app.session_state["reports_filter"] == ReportFilter()
    assert not app.exception


def test_a_name_shows_as_typed_and_deleting_asks_first(app, demo_db, fake_clock_app):
    hostile = "**Bold** [click](https://evil.example) <b>x</b>"
    saved_searches.save(demo_db, principal_of(demo_db, EMPLOYER), name=hostile,
                        report_filter=ReportFilter())
    sign_in(app, EMPLOYER)
    open_screen(app, "home")
    assert "<strong>**Bold** [click](https://evil.example) &lt;b&gt;x&lt;/b&gt;</strong>" in (
        literal_texts(app))
    assert not [m for m in app.markdown if "evil.example" in m.value]

    saved_id = _entries(demo_db)[hostile].id
    app.button(key=f"saved_search_delete_{saved_id}").click().run()
    assert app.button(key="confirm_yes").label == "Delete saved search"
    app.button(key="confirm_cancel").click().run()
    assert hostile in _entries(demo_db)
    app.button(key=f"saved_search_delete_{saved_id}").click().run()
    app.button(key="confirm_yes").click().run()
    assert _entries(demo_db) == {}
    assert [s.value for s in app.success] == ["Saved search deleted."]
    assert not [b for b in app.button if b.key == f"saved_search_open_{saved_id}"]


def test_the_email_toggle_and_rename_keep_to_their_own_search(app, demo_db, fake_clock_app):
    principal = principal_of(demo_db, EMPLOYER)
    first = saved_searches.save(demo_db, principal, name="First", report_filter=ReportFilter())
    second = saved_searches.save(demo_db, principal, name="Second", report_filter=ReportFilter())
    sign_in(app, EMPLOYER)
    open_screen(app, "home")
    toggle = app.toggle(key=f"saved_search_email_{second}")
    assert toggle.label == "In my new-results email" and toggle.value is False
    toggle.set_value(True).run()
    assert {n: e.in_email for n, e in _entries(demo_db).items()} == {"First": False, "Second": True}
    app.text_input(key=f"saved_search_name_{first}").input("Renamed")
    app.button(key=f"FormSubmitter:saved_search_rename_{first}-Rename").click().run()
    assert not app.exception
    assert set(_entries(demo_db)) == {"Renamed", "Second"}
    assert "<strong>Renamed</strong>" in literal_texts(app)
    assert app.toggle(key=f"saved_search_email_{second}").value is True


def test_staff_and_clinic_searches_open_with_their_own_fields(app, demo_db, fake_clock_app):
    """Support opens a search by status and account; a clinic group admin one by provider and
    patient name. Each field of the form shows what was saved."""
    support = principal_of(demo_db, "support@demo.test")
    choices = search.filter_choices(demo_db, support)
    account_id = next(iter(choices.accounts))
    saved_searches.save(demo_db, support, name="Archived at one account",
                        report_filter=ReportFilter(statuses=("archived",), account_id=account_id,
                                                   employee_id="E1"))
    sign_in(app, "support@demo.test")
    _open_from_home_as(app, demo_db, "support@demo.test", "Archived at one account")
    assert (app.multiselect(key="f_status").value, app.selectbox(key="f_account").value,
            app.text_input(key="f_employee").value) == (["archived"], account_id, "E1")
    assert not app.exception

    admin = principal_of(demo_db, "groupadmin@demo.test")
    provider_id = next(iter(search.filter_choices(demo_db, admin).providers))
    saved_searches.save(demo_db, admin, name="One clinic",
                        report_filter=ReportFilter(provider_id=provider_id, patient_name="pat"))
    fresh = AppTest.from_file(APP, default_timeout=30).run()  # another browser
    sign_in(fresh, "groupadmin@demo.test")
    _open_from_home_as(fresh, demo_db, "groupadmin@demo.test", "One clinic")
    assert (fresh.selectbox(key="f_provider").value, fresh.text_input(key="f_name").value) == (
        provider_id, "pat")
    assert fresh.session_state["reports_filter"] == ReportFilter(provider_id=provider_id,
                                                                 patient_name="pat")
    assert not fresh.exception


def _open_from_home_as(app, db, email: str, name: str):
    entries = {e.name: e for e in saved_searches.listing(db, principal_of(db, email))}
    open_screen(app, "home")
    app.button(key=f"saved_search_open_{entries[name].id}").click().run()
    if email == "support@demo.test":  # support says why first; the saved search then opens
        app.selectbox(key="reports_list_reason").select("Support request from the client or clinic")
        open_screen(app, "reports")  # AppTest's next run would go back to the page it asked for
    return app
