"""A clinic admin posts a correction for a report sent to an employer and withdraws another; the
employer sees the corrected one marked in the grid, downloads the new PDF byte for byte, and
asking for the withdrawn or replaced ones by link is told what the clinic did."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from db.engine import Database
from db.models import User
from services import principals
from services.reports import search
from tests.e2e.conftest import _start_portal, choose_option, settled, sign_in
from tests.services.report_world import pdf_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lifecycle_portal(tmp_path_factory):
    """A portal of its own: reports are replaced and withdrawn here for every later walk."""
    yield from _start_portal(tmp_path_factory.mktemp("corrections"), {})


def _shared_reports(database_url: str) -> list[search.ReportRow]:
    """Reports both the clinic admin's clinic posted and the employer received, newest first."""
    db = Database(database_url)
    try:
        seen = {}
        for email in ("clinicadmin@demo.test", "employer@demo.test"):
            with db.transaction(write=False) as session:
                user = session.scalar(select(User).where(User.email == email))
                principal = principals.load(session, user)
            seen[email] = search.search(db, principal, search.ReportFilter()).rows
        employer = {row.id for row in seen["employer@demo.test"]}
        return [row for row in seen["clinicadmin@demo.test"] if row.id in employer]
    finally:
        db.dispose()


def _open(page, url: str, report_id: int) -> None:
    page.goto(f"{url}/reports?report={report_id}")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    settled(page)


def _confirm(page, button: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_have_count(0)
    settled(page)


def test_a_correction_and_a_withdrawal_as_the_clinic_and_the_employer_see_them(
        lifecycle_portal, context, tmp_path):
    url = lifecycle_portal["url"]
    shared = _shared_reports(lifecycle_portal["database_url"])
    assert len(shared) >= 2, "the demo data has reports of the clinic sent to the employer"
    corrected, withdrawn = shared[0], shared[1]
    new_pdf = pdf_for("corrected in the browser", 1)
    (tmp_path / "corrected.pdf").write_bytes(new_pdf)

    clinic = context.new_page()
    sign_in(clinic, url, "clinicadmin@demo.test")
    _open(clinic, url, corrected.id)
    clinic.get_by_text("Post a correction", exact=True).click()
    settled(clinic)  # opening the panel reruns the screen: a file chosen meanwhile is lost
    chosen = clinic.get_by_text("corrected.pdf", exact=True)
    for attempt in range(3):
        clinic.get_by_role("region", name="Corrected PDF").locator("input[type=file]").set_input_files(
            tmp_path / "corrected.pdf")
        try:
            expect(chosen).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            # A rerun that redrew the panel meanwhile (seen on a loaded machine) drops the
            # chosen file: a person would choose it again.
            if attempt == 2:
                raise
            settled(clinic)
    post = clinic.get_by_role("button", name="Post correction")
    expect(chosen).to_be_visible()
    settled(clinic)
    expect(post).to_be_enabled()
    settled(clinic)
    post.click()
    dialog = clinic.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Report {corrected.id} ({corrected.type_label}")
    expect(dialog).to_contain_text(" is replaced by corrected.pdf for its ")
    _confirm(clinic, "Post the correction")
    message = clinic.get_by_text(f"Report {corrected.id} is replaced by report ")
    expect(message).to_be_visible()
    new_id = int(message.inner_text().split("by report ")[1].split(" ")[0])
    assert new_id > corrected.id
    expect(clinic.get_by_text(f"Replaces report {corrected.id}")).to_be_visible()

    _open(clinic, url, withdrawn.id)
    clinic.get_by_text("Withdraw", exact=True).click()
    settled(clinic)
    choose_option(clinic, clinic.get_by_role("combobox", name="Why is it withdrawn?"),
                  "Posted to the wrong employer")
    settled(clinic)
    clinic.get_by_role("button", name="Withdraw report").click()
    expect(clinic.get_by_role("dialog")).to_contain_text(
        f"Report {withdrawn.id} ({withdrawn.type_label}")
    _confirm(clinic, "Withdraw the report")
    expect(clinic.get_by_text(f"Report {withdrawn.id} is withdrawn.")).to_be_visible()
    expect(clinic.get_by_text("Withdrawn by the clinic on ")).to_be_visible()
    expect(clinic.get_by_role("heading", name="Who opened it before")).to_be_visible()

    employer = context.browser.new_context()
    try:
        page = employer.new_page()
        sign_in(page, url, "employer@demo.test")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
        expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
        cells = page.get_by_test_id("stDataFrame").locator("td[role=gridcell]")
        expect(cells.filter(has_text="Corrected").first).to_be_attached()
        expect(cells.filter(has_text="Corrected")).to_have_count(1)

        _open(page, url, new_id)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download PDF").click()
        assert Path(download.value.path()).read_bytes() == new_pdf

        _open(page, url, withdrawn.id)
        expect(page.get_by_text(f"Report {withdrawn.id} was withdrawn by the clinic on ")
               ).to_be_visible()
        expect(page.get_by_text("This report is not available to you.")).to_have_count(0)

        _open(page, url, corrected.id)
        expect(page.get_by_text(f"Report {corrected.id} was replaced by a correction: "
                                f"report {new_id}.")).to_be_visible()
        page.get_by_role("button", name=f"Open report {new_id}").click()
        expect(page.get_by_text(f"Replaces report {corrected.id}")).to_be_visible()
    finally:
        employer.close()
