"""Reports, a report opened, Upload and the My account notices as their users see them."""

from __future__ import annotations

import re
from datetime import date
from collections import Counter

from sqlalchemy import exists, select, update

from db.models import (
    Account,
    AccountMembership,
    AuditEvent,
    Incident,
    Report,
    ReportPreview,
    ReportRecipient,
    User,
)
from pages.common import runtime
from pages.screens import reports, upload
from services.reports import access, bundle_links, ingest, manifest, report_types, search
from services.reports.ingest import FIELDS, IngestOutcome
from services.reports.search import ReportFilter
from tests.conftest import principal_of
from tests.pages.conftest import literal_texts, open_screen, screens, sign_in, sign_out, titles
from tests.services.report_world import listing, pdf_for

EMPLOYER = "employer@demo.test"
SUPPORT = "support@demo.test"
SEARCH = "FormSubmitter:report_filters-Search"
NO_MATCH = "No reports match. Widen the dates or clear a filter."



def _search(db, email: str, after=None, **filters) -> search.ReportPage:
    principal = principal_of(db, email)
    return search.search(db, principal, ReportFilter(**filters), after=after,
                         purpose=listing(principal))


def _audit(db, email: str, *actions: str) -> list[tuple[str, str | None, str | None, dict]]:
    with db.transaction(write=False) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.actor_email == email,
                                                          AuditEvent.action.in_(actions))
                                 .order_by(AuditEvent.id))
        return [(e.action, e.target_type, e.target_id, e.details) for e in events]


def _grid(at):
    return at.dataframe[0].value


def _count_texts(at) -> list[str]:
    return [m.value for m in at.markdown if " · showing " in m.value]


def _reports(app, email: str):
    sign_in(app, email)
    open_screen(app, "reports")
    if email == SUPPORT:  # support says why before reports are listed
        app.selectbox(key="reports_list_reason").select(access.STAFF_PURPOSES[0]).run()
    return app


def _select_rows(at, *rows: int):
    """AppTest cannot click the canvas grid; a keyed dataframe takes its selection from session state."""
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": list(rows)}}
    return at.run()


# --- the list -------------------------------------------------------------------------------

def test_an_employer_sees_their_reports_newest_first_all_new(app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    assert titles(app) == ["Reports"]
    retention = [c.value for c in app.caption if "60 days" in c.value]
    assert len(retention) == 1 and "For an older report, contact the medical center" in retention[0]
    expected = _search(demo_db, EMPLOYER)
    grid = _grid(app)
    assert grid["Report #"].tolist() == [row.id for row in expected.rows]
    assert grid["Posted"].tolist() == sorted(grid["Posted"], reverse=True)
    assert _count_texts(app) == [f"**{expected.count}** results · showing 1–{len(expected.rows)}"]
    assert grid["New"].tolist() == ["New" if row.is_new else "" for row in expected.rows]
    assert set(grid["New"]) == {"New"}  # nobody opened anything in the demo data yet
    assert "Status" not in grid.columns  # client users only ever see available reports


def test_filtering_by_report_type_keeps_only_that_type(app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    counts = Counter(row.report_type for row in _search(demo_db, EMPLOYER).rows)
    wanted = next(t for t, n in counts.most_common() if n < sum(counts.values()))
    app.multiselect(key="f_types").select(wanted)
    app.button(key=SEARCH).click().run()
    grid = _grid(app)
    assert set(grid["Report type"]) == {report_types.names(demo_db)[wanted]}
    assert len(grid) == counts[wanted]
    assert grid["Report #"].tolist() == [r.id for r in _search(demo_db, EMPLOYER, report_types=(wanted,)).rows]


def test_filtering_by_patient_name_keeps_only_that_patient(app, fake_clock_app):
    _reports(app, EMPLOYER)
    first = _grid(app).iloc[0]
    last_name, first_name = first["Patient"].split(", ")
    app.text_input(key="f_name").input(f"{first_name} {last_name}")
    app.button(key=SEARCH).click().run()
    grid = _grid(app)
    assert set(grid["Patient"]) == {first["Patient"]}
    assert first["Report #"] in grid["Report #"].tolist()


def test_a_filter_nothing_matches_says_so(app, fake_clock_app):
    _reports(app, EMPLOYER)
    app.text_input(key="f_name").input("Zzyzxq")
    app.button(key=SEARCH).click().run()
    assert [i.value for i in app.info] == [NO_MATCH]
    assert not app.dataframe and not _count_texts(app)


def test_a_report_number_finds_that_report_alone(app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    wanted = int(_grid(app).iloc[-1]["Report #"])
    app.text_input(key="f_report_number").input(f"#{wanted}")
    app.button(key=SEARCH).click().run()
    assert _grid(app)["Report #"].tolist() == [wanted]
    assert _count_texts(app) == ["**1** result · showing 1–1"]
    app.text_input(key="f_report_number").input("49x")
    app.button(key=SEARCH).click().run()
    assert [e.value for e in app.error] == ["A report number is digits only, for example 4992."]


def test_a_preset_with_typed_dates_too_is_refused_and_the_results_stay(app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    before = _grid(app)["Report #"].tolist()
    app.selectbox(key="f_posted_preset").select("Last 7 days")
    app.date_input(key="f_posted").set_value((date(2026, 10, 1), date(2026, 10, 31)))
    app.button(key=SEARCH).click().run()
    assert [e.value for e in app.error] == [
        "Choose either “Last 7 days” or the dates under Posted between (with Custom range), not both."]
    assert _grid(app)["Report #"].tolist() == before
    app.selectbox(key="f_posted_preset").select("Custom range")
    app.date_input(key="f_posted").set_value(())
    app.button(key=SEARCH).click().run()
    assert [e.value for e in app.error] == [
        "Choose the first and last day of the custom range under Posted between."]


def test_a_download_link_reads_nothing_until_it_is_followed_and_then_offers_a_new_one(
        app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    assert _grid(app)["New"].tolist()[:2] == ["New", "New"]
    _select_rows(app, 0)
    chosen = int(_grid(app)["Report #"].tolist()[0])
    size_line = [t.value for t in app.text if " · " in t.value]
    assert size_line and size_line[0].startswith("1 report · ")
    app.button(key="bundle_link").click().run()
    assert not app.exception
    [save] = app.get("link_button")
    assert re.fullmatch(r"Save reports_\d{4}-\d{2}-\d{2}_\d{6}_1\.zip", save.proto.label)
    assert save.proto.url.startswith("/bundles/")
    assert _grid(app)["New"].tolist()[:2] == ["New", "New"]  # a link alone opens nothing
    assert not _audit(demo_db, EMPLOYER, "report.downloaded")
    # What the route does when the browser follows the link with this session's cookie.
    bundle = bundle_links.open_stream(demo_db, save.proto.url.rsplit("/", 1)[1],
                                      app.session_state[runtime.TOKEN_KEY],
                                      runtime.blob_store())
    b"".join(bundle.chunks)
    assert [a[2] for a in _audit(demo_db, EMPLOYER, "report.downloaded")] == [str(chosen)]
    app.run()
    assert _grid(app)["New"].tolist()[:2] == ["", "New"]


def test_a_report_number_outside_the_employers_view_finds_nothing(app, demo_db, fake_clock_app):
    with demo_db.transaction(write=False) as session:
        not_theirs = session.scalar(select(Report.id).where(~exists().where(
            ReportRecipient.report_id == Report.id,
            ReportRecipient.account_id.in_(select(AccountMembership.account_id).join(
                User, User.id == AccountMembership.user_id).where(User.email == EMPLOYER)))))
    assert not_theirs is not None
    _reports(app, EMPLOYER)
    app.text_input(key="f_report_number").input(str(not_theirs))
    app.button(key=SEARCH).click().run()
    assert [i.value for i in app.info] == [NO_MATCH]
    assert not _audit(demo_db, EMPLOYER, "permission.denied")


def test_a_tick_does_not_move_to_the_next_report_when_the_new_list_changes(app, demo_db,
                                                                          fake_clock_app):
    _reports(app, EMPLOYER)
    app.radio(key="f_read").set_value("New (not opened by me)")
    app.button(key=SEARCH).click().run()
    first, second = (int(n) for n in _grid(app)["Report #"].tolist()[:2])
    new_before = _search(demo_db, EMPLOYER, read="new").count
    _select_rows(app, 0)
    assert app.button(key="bundle_link").label == "Download 1 report"
    app.button(key="reports_open_selected").click().run()
    # The report opens above the list, is no longer new, and leaves this "New" list at once,
    # and the count says one fewer.
    assert not app.exception
    assert _grid(app)["Report #"].tolist()[0] == second
    assert _count_texts(app)[0].startswith(f"**{new_before - 1}** results")
    assert [i.value for i in app.info] == [
        f"Report {first} is no longer in this list, so no longer selected."]
    app.button(key="report_close").click().run()
    assert not app.exception
    assert _grid(app)["Report #"].tolist()[0] == second
    assert app.session_state[reports.SELECTED_KEY] == []
    assert app.dataframe[0].key not in app.session_state or not (
        app.session_state[app.dataframe[0].key]["selection"]["rows"])
    assert not [b for b in app.button if b.key in ("reports_open_selected", "bundle_link")]


# --- the pager ------------------------------------------------------------------------------

def test_next_shows_the_remaining_results_and_previous_returns(app, demo_db, fake_clock_app):
    _reports(app, SUPPORT)
    first_page = _grid(app)["Report #"].tolist()
    app.button(key="reports_next").click().run()
    assert not app.exception
    second_page = _grid(app)["Report #"].tolist()
    assert len(first_page) + len(second_page) == _search(demo_db, SUPPORT).count
    app.button(key="reports_previous").click().run()
    assert not app.exception
    assert _grid(app)["Report #"].tolist() == first_page


def test_paging_takes_the_count_once_per_search(app, demo_db, fake_clock_app, monkeypatch):
    counted = []
    real_count = search.count
    monkeypatch.setattr(search, "count", lambda *a, **k: counted.append(1) or real_count(*a, **k))
    _reports(app, SUPPORT)
    assert len(counted) == 1
    app.button(key="reports_next").click().run()
    app.button(key="reports_previous").click().run()
    assert not app.exception and len(counted) == 1
    assert _count_texts(app) == ["**60** results · showing 1–50"]
    app.button(key=SEARCH).click().run()  # a new search counts again
    assert len(counted) == 2


def test_ticks_survive_turning_the_page_and_add_up_across_pages(app, demo_db, fake_clock_app):
    _reports(app, SUPPORT)
    first, second = (int(n) for n in _grid(app)["Report #"].tolist()[:2])
    _select_rows(app, 0, 1)
    app.button(key="reports_next").click().run()
    assert not app.exception
    assert [i.value for i in app.info] == []  # nothing left the search: nothing to say
    assert app.session_state[reports.SELECTED_KEY] == [first, second]
    assert "**2 reports selected**" in [m.value for m in app.markdown]
    # Nothing on this page is ticked; ticking one adds it to the two from page 1.
    third = int(_grid(app)["Report #"].tolist()[0])
    assert not app.session_state[app.dataframe[0].key]["selection"]["rows"]
    _select_rows(app, 0)
    assert app.session_state[reports.SELECTED_KEY] == [first, second, third]
    app.button(key="reports_previous").click().run()
    assert not app.exception
    # Back on page 1 the two are ticked again, on their own rows.
    assert app.session_state[app.dataframe[0].key]["selection"]["rows"] == [0, 1]
    _select_rows(app, 0)  # untick the second
    assert app.session_state[reports.SELECTED_KEY] == [first, third]
    app.button(key="reports_clear_selection").click().run()
    assert app.session_state[reports.SELECTED_KEY] == []
    assert not app.session_state[app.dataframe[0].key]["selection"]["rows"]


def test_select_all_takes_every_result_of_the_search_and_a_new_search_lets_go(app, demo_db,
                                                                              fake_clock_app):
    _reports(app, SUPPORT)
    everything = [row.id for row in _search(demo_db, SUPPORT).rows]
    everything += [row.id for row in _search(demo_db, SUPPORT,
                                             after=_search(demo_db, SUPPORT).next_cursor).rows]
    assert app.button(key="reports_select_all").label == "Select all 60 results of this search"
    app.button(key="reports_select_all").click().run()
    assert not app.exception
    assert app.session_state[reports.SELECTED_KEY] == everything
    assert "**60 reports selected**" in [m.value for m in app.markdown]
    assert app.session_state[app.dataframe[0].key]["selection"]["rows"] == list(range(50))
    assert not [b for b in app.button if b.key == "reports_select_all"]  # all are chosen
    app.button(key="reports_next").click().run()
    assert app.session_state[app.dataframe[0].key]["selection"]["rows"] == list(range(10))
    app.button(key=SEARCH).click().run()  # a new search starts with nothing chosen
    assert app.session_state[reports.SELECTED_KEY] == []


def test_select_all_is_offered_only_while_the_search_fits_in_one_download(app, demo_db,
                                                                         fake_clock_app,
                                                                         monkeypatch):
    monkeypatch.setenv("RESULTSDESK_BULK_DOWNLOAD_REPORTS", "40")
    _reports(app, SUPPORT)
    assert not [b for b in app.button if b.key == "reports_select_all"]
    assert ("One download holds at most 40 reports: narrow the search to select all its "
            "results at once.") in [c.value for c in app.caption]


def test_the_second_page_holds_the_rest_without_overlap(app, demo_db, fake_clock_app):
    # Moves the cursor as the Next button does, to check exactly what the second page shows.
    _reports(app, SUPPORT)
    first = _search(demo_db, SUPPORT)
    assert first.count == 60 and len(first.rows) == search.PAGE_SIZE
    assert _grid(app)["Report #"].tolist() == [r.id for r in first.rows]
    assert not app.button(key="reports_next").disabled and app.button(key="reports_previous").disabled
    app.session_state[reports.CURSORS_KEY] = [None, first.next_cursor]
    app.run()
    second = _grid(app)["Report #"].tolist()
    assert second == [r.id for r in _search(demo_db, SUPPORT, after=first.next_cursor).rows]
    assert len(second) == 10 and not set(second) & {r.id for r in first.rows}
    assert _count_texts(app) == ["**60** results · showing 51–60"]
    assert app.button(key="reports_next").disabled and not app.button(key="reports_previous").disabled
    assert "Status" in _grid(app).columns  # staff see every status


def test_the_next_user_on_the_same_tab_starts_with_a_fresh_search(app, demo_db, fake_clock_app):
    _reports(app, SUPPORT)
    with demo_db.transaction(write=False) as session:
        payor = session.scalars(select(Account.id).where(Account.kind == "payor")
                                .order_by(Account.id)).first()
    app.selectbox(key="f_account").select(payor)
    app.button(key=SEARCH).click().run()
    count = _search(demo_db, SUPPORT, account_id=payor).count
    assert _count_texts(app) == [f"**{count}** results · showing 1–{len(_grid(app))}"]
    sign_out(app)
    _reports(app, EMPLOYER)
    assert not app.error
    assert _grid(app)["Report #"].tolist() == [r.id for r in _search(demo_db, EMPLOYER).rows]
    assert _audit(demo_db, EMPLOYER, "permission.denied") == []


def test_the_next_user_on_the_same_tab_sees_their_own_count(app, demo_db, fake_clock_app):
    _reports(app, SUPPORT)
    assert _count_texts(app) == ["**60** results · showing 1–50"]
    sign_out(app)
    _reports(app, EMPLOYER)
    own = _search(demo_db, EMPLOYER)
    assert _count_texts(app) == [f"**{own.count}** results · showing 1–{len(own.rows)}"]


# --- opening a report -----------------------------------------------------------------------

def test_an_employer_opens_a_selected_report(app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    row = _grid(app).iloc[0]
    report_id = int(row["Report #"])
    _select_rows(app, 0)
    app.button(key="reports_open_selected").click().run()
    assert not app.exception
    details = [t for t in literal_texts(app) if t.startswith("<table>")]
    assert len(details) == 1 and f"<td>{row['Patient']}</td>" in details[0]
    assert f"report {report_id}</td>" in details[0]
    # The demo PDFs are a few kilobytes: the size reads in KB, never "0.0 MB".
    assert re.search(r"<th[^>]*>File size</th><td>[1-9][0-9]* KB</td>", details[0])
    [image] = app.get("image")
    assert image.value and image.value[0] and image.captions[0].startswith("Page 1 of ")
    assert [b.label for b in app.get("download_button")] == ["Download PDF"]
    assert app.get("download_button")[0].key == f"report_download_{report_id}"
    app.run()  # the grid above the report was drawn before it was opened
    grid = _grid(app)
    assert grid.loc[grid["Report #"] == report_id, "New"].tolist() == [""]
    assert (grid.loc[grid["Report #"] != report_id, "New"] == "New").all()
    assert _audit(demo_db, EMPLOYER, "report.opened", "report.previewed") == [
        ("report.opened", "report", str(report_id), {}),
        ("report.previewed", "report", str(report_id), {}),
    ]


def test_a_report_without_a_picture_says_so_and_still_downloads(app, demo_db, fake_clock_app):
    _reports(app, EMPLOYER)
    report_id = int(_grid(app).iloc[0]["Report #"])
    with demo_db.transaction() as session:
        sha256 = session.get(Report, report_id).file_sha256
        session.execute(update(ReportPreview).where(ReportPreview.file_sha256 == sha256)
                        .values(status="failed", reason="Drawing the first page took too long."))
    _select_rows(app, 0)
    app.button(key="reports_open_selected").click().run()
    assert not app.exception
    assert not app.get("image")
    assert "No preview for this report. Download the PDF to read it." in [i.value for i in app.info]
    assert [b.label for b in app.get("download_button")] == ["Download PDF"]
    assert _audit(demo_db, EMPLOYER, "report.previewed") == []


def _not_routed_to_employer(db) -> int:
    with db.transaction(write=False) as session:
        accounts = select(AccountMembership.account_id).join(User).where(User.email == EMPLOYER)
        return session.scalars(
            select(Report.id).where(~exists().where(ReportRecipient.report_id == Report.id,
                                                    ReportRecipient.account_id.in_(accounts)))
            .order_by(Report.id)).first()


def test_a_link_to_someone_elses_report_is_refused_and_audited(app, demo_db, fake_clock_app):
    report_id = _not_routed_to_employer(demo_db)
    sign_in(app, EMPLOYER)
    app.query_params["report"] = str(report_id)
    open_screen(app, "reports")
    assert [e.value for e in app.error] == ["This report is not available to you."]
    assert not any(t.startswith("<table>") for t in literal_texts(app)) and not app.get("image")
    assert not app.get("download_button")
    assert _audit(demo_db, EMPLOYER, "permission.denied", "report.opened") == [
        ("permission.denied", "report", str(report_id), {"action": "view_reports"})]


def test_a_refused_link_is_audited_once_however_often_the_screen_reruns(app, demo_db, fake_clock_app):
    report_id = _not_routed_to_employer(demo_db)
    sign_in(app, EMPLOYER)
    app.query_params["report"] = str(report_id)
    open_screen(app, "reports")
    _select_rows(app, 0)
    app.run()
    assert len(_audit(demo_db, EMPLOYER, "permission.denied")) == 1


def test_staff_name_a_purpose_before_they_see_the_pdf(app, demo_db, fake_clock_app):
    report_id = _search(demo_db, SUPPORT).rows[-1].id
    sign_in(app, SUPPORT)
    app.query_params["report"] = str(report_id)
    open_screen(app, "reports")
    app.selectbox(key="reports_list_reason").select(access.STAFF_PURPOSES[0]).run()
    purpose = app.selectbox(key=f"report_{report_id}_purpose")
    assert purpose.options == list(access.STAFF_PURPOSES) and purpose.value is None
    assert "Choose a purpose to see and download the PDF." in [i.value for i in app.info]
    assert not app.get("image") and not app.get("download_button")
    assert _audit(demo_db, SUPPORT, "report.previewed") == []
    purpose.select("HIPAA incident review").run()
    assert not app.exception
    assert len(app.get("image")) == 1 and len(app.get("download_button")) == 1
    assert _audit(demo_db, SUPPORT, "report.opened", "report.previewed") == [
        ("report.opened", "report", str(report_id), {}),
        ("report.previewed", "report", str(report_id), {"purpose": "HIPAA incident review"}),
    ]


# --- upload and my account ------------------------------------------------------------------

def test_a_group_admin_can_upload_and_an_employer_cannot(app, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    assert "upload" in screens(app)
    open_screen(app, "upload")
    assert titles(app) == ["Upload reports"]
    assert [u.key for u in app.get("file_uploader")] == ["upload_files_0", "upload_manifest_0"]
    sign_out(app)
    sign_in(app, EMPLOYER)
    assert "reports" in screens(app) and "upload" not in screens(app)


def test_the_report_picker_states_the_per_file_limit_the_portal_enforces(app, fake_clock_app,
                                                                          monkeypatch):
    """Streamlit's picker prints its limit ("Limit 20MB per file"); it must be the report limit
    (RESULTSDESK_MAX_REPORT_MB), not the server's cap on any upload (50 MB)."""
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "upload")
    limits = {u.key: u.proto.max_upload_size_mb for u in app.get("file_uploader")}
    assert limits["upload_files_0"] == 20
    monkeypatch.setenv("RESULTSDESK_MAX_REPORT_MB", "12")
    app.run()
    assert {u.key: u.proto.max_upload_size_mb for u in app.get("file_uploader")}["upload_files_0"] == 12


def test_the_upload_summary_says_a_posted_report_has_no_preview_and_why(app, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "upload")
    app.session_state[upload.OUTCOMES_KEY] = [
        IngestOutcome("fan.pdf", "posted", 9001, preview_problem="Drawing the first page took "
                      "longer than 10 seconds (the file is too complex to preview)."),
        IngestOutcome("ok.pdf", "posted", 9002),
    ]
    app.run()
    assert not app.exception
    assert [w.value for w in app.warning] == ["2 posted, 0 rejected; 1 posted without a preview"]
    table = app.dataframe[0].value
    assert table["Outcome"].tolist() == ["Posted, no preview", "Posted"]
    assert table["Reason"].tolist()[0] == ("Posted, but no preview: Drawing the first page took "
                                           "longer than 10 seconds (the file is too complex to "
                                           "preview).")


def _manifest(db, email: str, files: list[str]) -> bytes:
    """A CSV manifest whose rows would all post: one report per file, for the uploader's provider."""
    choices = ingest.upload_choices(db, principal_of(db, email))
    details = {"report_type": "ccf", "provider_npi": next(iter(choices.providers)),
               "service_date": "2026-11-02", "patient_last_name": "Gonzalez",
               "patient_first_name": "Maria", "patient_date_of_birth": "1980-04-01",
               "employee_id": "E100", "employer": choices.employers[0], "injury": "no",
               "claim_number": "", "claim_payer": ""}
    lines = [",".join(("file", *FIELDS))]
    lines += [",".join((name, *(details[key] for key in FIELDS))) for name in files]
    return ("\n".join(lines) + "\n").encode()


def _report_count(db) -> int:
    with db.transaction(write=False) as session:
        return len(session.scalars(select(Report.id)).all())


def test_a_manifest_over_the_row_limit_is_refused_on_the_upload_screen_and_nothing_posts(
        app, demo_db, fake_clock_app, monkeypatch):
    monkeypatch.setattr(manifest, "MAX_ROWS", 2)
    email = "groupadmin@demo.test"
    before = _report_count(demo_db)
    pdfs = [(f"limit-{n}.pdf", pdf_for(f"limit-{n}", 1), "application/pdf") for n in range(3)]
    _post_batch(app, demo_db, email, pdfs)

    assert not app.exception
    assert [e.value for e in app.error] == ["A manifest holds at most 2 rows."]
    assert _report_count(demo_db) == before
    assert "Last upload" not in [h.value for h in app.header]

    # Within the limit the same screen posts every row.
    app.file_uploader(key="upload_manifest_0").set_value(
        ("manifest.csv", _manifest(demo_db, email, [name for name, _, _ in pdfs[:2]]), "text/csv"))
    app.run()
    app.button(key="upload_post").click().run()
    assert not app.exception and not app.error
    assert _report_count(demo_db) == before + 2
    assert app.dataframe[0].value["Outcome"].tolist() == ["Posted", "Posted"]


def _post_batch(app, demo_db, email: str, pdfs: list[tuple[str, bytes, str]]) -> None:
    """Sign in, pick the PDFs and a manifest naming them, press Post."""
    sign_in(app, email)
    open_screen(app, "upload")
    app.file_uploader(key="upload_files_0").set_value(pdfs)
    app.file_uploader(key="upload_manifest_0").set_value(
        ("manifest.csv", _manifest(demo_db, email, [name for name, _, _ in pdfs]), "text/csv"))
    app.run()
    app.button(key="upload_post").click().run()


def test_a_partly_rejected_batch_warns_with_its_counts_and_leaves_the_pickers_empty(
        app, demo_db, fake_clock_app):
    email = "groupadmin@demo.test"
    before = _report_count(demo_db)
    pdfs = [("good.pdf", pdf_for("batch-good", 1), "application/pdf"),
            ("bad.pdf", b"not a pdf at all", "application/pdf")]
    _post_batch(app, demo_db, email, pdfs)

    assert not app.exception and not app.error
    assert _report_count(demo_db) == before + 1
    # Warned, not congratulated: one of the two did not post.
    assert [w.value for w in app.warning] == ["1 posted, 1 rejected"]
    assert not app.success
    table = app.dataframe[0].value
    assert table["Outcome"].tolist() == ["Posted", "Rejected"]
    # One type for the column (a number, or none for the rejected file): Arrow takes it as is.
    assert str(table["Report #"].dtype) in ("Int64", "int64", "float64")
    assert table["Report #"].notna().tolist() == [True, False]
    # The posted files are gone from the pickers, so nothing invites posting them again.
    assert [u.key for u in app.get("file_uploader")] == ["upload_files_1", "upload_manifest_1"]
    assert all(not u.value for u in app.get("file_uploader"))
    assert not [b for b in app.button if b.key == "upload_post"]


def test_a_batch_that_all_posts_is_a_success(app, demo_db, fake_clock_app):
    email = "groupadmin@demo.test"
    pdfs = [(f"all-{n}.pdf", pdf_for(f"batch-all-{n}", 1), "application/pdf") for n in range(2)]
    _post_batch(app, demo_db, email, pdfs)
    assert not app.exception and not app.warning
    assert [m.value for m in app.success] == ["2 posted, 0 rejected"]


def test_an_employer_switches_on_new_result_emails(app, demo_db, fake_clock_app):
    sign_in(app, EMPLOYER)
    open_screen(app, "my-account")
    toggle = app.toggle(key="my_account_notices")
    assert toggle.label == "Email me when new reports arrive" and toggle.value is False
    toggle.set_value(True).run()
    assert not app.exception and app.toggle(key="my_account_notices").value is True
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(User.notify_new_results).where(User.email == EMPLOYER)).one() is True
    assert _audit(demo_db, EMPLOYER, "notices.changed") == [
        ("notices.changed", "user", str(principal_of(demo_db, EMPLOYER).user_id), {"new_results": True})]


def test_a_manager_has_no_result_emails_to_switch(app, fake_clock_app):
    sign_in(app, "manager@demo.test")
    open_screen(app, "my-account")
    assert titles(app) == ["My account"]
    assert not app.toggle


def test_home_tells_a_client_how_many_new_results_wait(app, demo_db, fake_clock_app):
    unread = _search(demo_db, EMPLOYER).count
    sign_in(app, EMPLOYER)
    assert [i.value for i in app.info] == [
        f"You have {unread} new reports: they are marked New on the Reports screen."]
    open_screen(app, "reports")
    _select_rows(app, 0)
    app.button(key="reports_open_selected").click().run()
    open_screen(app, "home")
    assert [i.value for i in app.info] == [
        f"You have {unread - 1} new reports: they are marked New on the Reports screen."]


def test_an_employer_removes_a_report_received_in_error(app, demo_db, fake_clock_app):
    rows = _search(demo_db, EMPLOYER).rows
    report_id = rows[0].id
    _reports(app, EMPLOYER)
    _select_rows(app, 0)
    app.button(key="reports_open_selected").click().run()
    app.text_area(key="error_note").input("Not our employee")
    app.button(key="error_flag").click().run()
    assert any("removed from your view" in s.value for s in app.success)
    assert report_id not in _grid(app)["Report #"].tolist()
    assert report_id not in [r.id for r in _search(demo_db, EMPLOYER).rows]


def test_a_deactivated_employers_click_removes_nothing_and_shows_the_sign_in(app, demo_db,
                                                                             fake_clock_app):
    rows = _search(demo_db, EMPLOYER).rows
    _reports(app, EMPLOYER)
    _select_rows(app, 0)
    app.button(key="reports_open_selected").click().run()
    with demo_db.transaction() as session:  # deactivated while the report was open on screen
        session.execute(update(User).where(User.email == EMPLOYER).values(status="deactivated"))
    app.button(key="error_flag").click().run()
    assert not app.exception
    assert titles(app) == ["Sign in to ResultsDesk"]
    assert not any("removed from your view" in s.value for s in app.success)
    with demo_db.transaction(write=False) as session:
        assert session.scalars(select(Incident.id)).all() == []
        assert session.scalar(select(exists().where(ReportRecipient.report_id == rows[0].id))) is True
