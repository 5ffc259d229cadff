"""Provider groups in Chromium, on a portal of their own (the walks add providers and move one).

groupadmin@demo.test registers a second location (Austin), adds an existing person of the group
to it as Provider staff (the role preselected) and another as Provider admin (asked first);
that admin posts a report for Austin and the staff member finds it on Reports. Support creates
a group for a facility that calls in and moves a provider to it with a reason; a provider admin
sees only their own provider and changes its fax; a deactivated provider leaves the upload form.

Provider staff do not upload: the role matrix gives uploads to provider and group admins only
(docs/roles.md), so the person who posts for the new location is the one given its admin role.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from db.engine import Database
from db.models import AuditEvent, Membership, Provider, ProviderGroup, Report, User
from services.demo import seed
from services.organizations import npi
from tests.e2e.conftest import _start_portal, choose_option, open_report_filters, settled, sign_in
from tests.fixtures.bad_pdfs import valid_pdf

pytestmark = pytest.mark.browser

AUSTIN = "Sunbelt Occupational Medicine - Austin"
AUSTIN_NPI = "177777777" + npi.check_digit("177777777")  # not among the seed's NPIs
GULF_NPI = "188888888" + npi.check_digit("188888888")
COLUMNS = ("file,report_type,provider_npi,service_date,patient_last_name,patient_first_name,"
           "patient_date_of_birth,employee_id,employer,injury,claim_number,claim_payer")


@pytest.fixture(scope="module")
def groups_portal(tmp_path_factory):
    yield from _start_portal(tmp_path_factory.mktemp("provider-groups"), {})


def _read(portal: dict, query):
    db = Database(portal["database_url"])
    try:
        with db.transaction(write=False) as session:
            return session.execute(query).all()
    finally:
        db.dispose()


def _open_screen(page: Page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Provider groups").click()
    expect(page.get_by_role("heading", name="Provider groups")).to_be_visible()
    settled(page)


def _choose(page: Page, label: str, option: str, *, within: Locator | None = None) -> None:
    box = (within or page).get_by_role("combobox", name=label, exact=True)
    # The list filters as a person types; a picker drawn anew by a rerun is found again.
    choose_option(page, box, option)
    settled(page)
    expect(box).to_have_value(option)


def _fill(scope: Locator, values: dict[str, str]) -> None:
    for label, value in values.items():
        scope.get_by_role("textbox", name=label, exact=True).fill(value)


def _expander(page: Page, title: str) -> Locator:
    expander = page.get_by_test_id("stExpander").filter(has_text=title)
    details = expander.locator("details").first
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return expander


def _alert(page: Page, kind: str) -> Locator:
    return page.get_by_test_id("stAlertContainer").filter(
        has=page.get_by_test_id(f"stAlertContent{kind}"))


def _in_grid(page: Page, text: str) -> None:
    """Wait for a grid cell holding `text` (a canvas; its cells are exposed to assistive tech)."""
    expect(page.get_by_test_id("stDataFrame").get_by_text(text, exact=False).first).to_be_attached()


def test_group_admin_registers_a_location_adds_people_and_it_takes_reports(groups_portal, context,
                                                                           tmp_path):
    url = groups_portal["url"]
    page = context.new_page()
    sign_in(page, url, "groupadmin@demo.test")
    _open_screen(page)
    # Lands on her own group: no group picker, the group's name, its three providers.
    expect(page.get_by_role("combobox", name="Provider group", exact=True)).to_have_count(0)
    expect(page.get_by_text(seed._GROUPS[0][0], exact=False).first).to_be_visible()
    expect(page.get_by_text("3 providers", exact=True)).to_be_visible()

    register = _expander(page, "Register new provider")
    _fill(register, {"NPI": AUSTIN_NPI, "Provider name": AUSTIN,
                     "Provider type": "Occupational medicine clinic", "Address": "600 Congress Ave",
                     "City": "Austin", "State (two letters)": "TX", "Postal code": "78701",
                     "Phone": "(512) 555-0140", "Fax": "(512) 555-0141"})
    register.get_by_role("button", name="Register provider").click()
    expect(_alert(page, "Success").filter(has_text=f"Provider with NPI {AUSTIN_NPI} registered."
                                          )).to_be_visible()
    expect(page.get_by_text("4 providers", exact=True)).to_be_visible()
    _in_grid(page, AUSTIN_NPI)
    # The form is empty again, ready for the next location.
    register = _expander(page, "Register new provider")
    expect(register.get_by_role("textbox", name="NPI", exact=True)).to_have_value("")

    # Users tab: Chris Chen (provider staff at Houston) joins Austin as Provider staff.
    page.get_by_role("tab", name="Users").click()
    settled(page)
    expect(page.get_by_text("3 people with a role in this group")).to_be_visible()
    _choose(page, "Person", "Chris Chen (clinic@demo.test)")
    expect(page.get_by_role("combobox", name="Role", exact=True)).to_have_value("Provider staff")
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_disabled()  # no provider yet
    _choose(page, "Add to provider", f"{AUSTIN} (NPI {AUSTIN_NPI})")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(_alert(page, "Success").filter(has_text="Added as Provider staff.")).to_be_visible()
    _in_grid(page, f"Provider staff: {AUSTIN}")
    # The picks start again for the next person (Chris is still chosen; no provider, staff role).
    expect(page.get_by_role("combobox", name="Role", exact=True)).to_have_value("Provider staff")

    # Carmen Castillo (provider admin at Houston) becomes Austin's Provider admin: asked first.
    expect(page.get_by_role("tab", name="Users")).to_have_attribute("aria-selected", "true")
    _choose(page, "Person", "Carmen Castillo (clinicadmin@demo.test)")
    _choose(page, "Add to provider", f"{AUSTIN} (NPI {AUSTIN_NPI})")
    _choose(page, "Role", "Provider admin")
    page.get_by_role("button", name="Add", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Carmen Castillo (clinicadmin@demo.test) will become Provider admin "
                              f"of {AUSTIN} (NPI {AUSTIN_NPI}).")).to_be_visible()
    dialog.get_by_role("button", name="Give the role").click()
    expect(_alert(page, "Success").filter(has_text="Added as Provider admin.")).to_be_visible()
    held = _read(groups_portal, select(User.email, Membership.role)
                 .join(Membership, Membership.user_id == User.id)
                 .join(Provider, Provider.id == Membership.provider_id)
                 .where(Provider.npi == AUSTIN_NPI).order_by(User.email))
    assert held == [("clinic@demo.test", "provider_staff"),
                    ("clinicadmin@demo.test", "provider_admin")]

    # Chris, now Provider staff at Austin, posts a report for it and finds it on Reports.
    chris = context.browser.new_context()
    chris.set_default_timeout(20_000)
    try:
        chris_page = chris.new_page()
        sign_in(chris_page, url, "clinic@demo.test")
        _post_for_austin(chris_page, tmp_path)
        chris_page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports", exact=True).click()
        open_report_filters(chris_page)
        chris_page.get_by_role("textbox", name="Patient name").fill("Lonestar")
        chris_page.get_by_test_id("stForm").get_by_role("button", name="Search",
                                                        exact=True).click()
        settled(chris_page)
        _in_grid(chris_page, "Lonestar")
    finally:
        chris.close()
    [(report_id,)] = _read(groups_portal, select(Report.id).join(Provider)
                           .where(Provider.npi == AUSTIN_NPI))
    assert report_id
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _start_upload(page: Page, tmp_path, stem: str, npi: str, patient: str) -> None:
    """Write one PDF and a manifest naming it for `npi` (patient "Last,First,born,employee ID"),
    open Upload reports and choose the PDF; the manifest waits at tmp_path/<stem>.csv."""
    (tmp_path / f"{stem}.pdf").write_bytes(valid_pdf(1))
    (tmp_path / f"{stem}.csv").write_text("\n".join([
        COLUMNS, f"{stem}.pdf,ccf,{npi},2026-11-02,{patient},{seed._EMPLOYERS[0]},no,,"]) + "\n")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Upload reports").click()
    expect(page.get_by_role("heading", name="Upload reports")).to_be_visible()
    page.get_by_role("region", name="Report PDFs").locator("input[type=file]").set_input_files(
        tmp_path / f"{stem}.pdf")


def _add_manifest(page: Page, tmp_path, stem: str) -> None:
    manifest = page.get_by_role("region", name="Details from a CSV manifest (optional)")
    manifest.locator("input[type=file]").set_input_files(tmp_path / f"{stem}.csv")
    expect(page.get_by_text(f"{stem}.csv")).to_be_visible()


def _post_for_austin(page: Page, tmp_path) -> None:
    _start_upload(page, tmp_path, "austin-visit", AUSTIN_NPI, "Lonestar,Lee,1988-03-04,EAU001")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    _add_manifest(page, tmp_path, "austin-visit")
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.get_by_role("button", name="Post 1 report").click()
    expect(page.get_by_role("heading", name="Last upload")).to_be_visible()
    expect(_alert(page, "Success")).to_be_visible()


def test_support_creates_a_group_and_moves_a_provider_to_it_with_a_reason(groups_portal, context):
    page = context.new_page()
    sign_in(page, groups_portal["url"], "support@demo.test")
    _open_screen(page)
    create = _expander(page, "Create a provider group")
    _fill(create, {"Group name": "Gulf Coast Occupational Health", "Facility NPI": GULF_NPI,
                   "Provider name": "Gulf Coast - Galveston", "City": "Galveston",
                   "State (two letters)": "TX"})
    create.get_by_role("button", name="Create the group").click()
    expect(_alert(page, "Success").filter(has_text=f"Provider group with NPI {GULF_NPI} created."
                                          )).to_be_visible()
    # It lands on the new group, with its first provider.
    expect(page.get_by_role("combobox", name="Provider group", exact=True)).to_have_value(
        f"Gulf Coast Occupational Health (NPI {GULF_NPI}, 1 provider)")
    _in_grid(page, "Gulf Coast - Galveston")

    # Tampa moves from Sunbelt to the new group.
    [(tampa_id, tampa_npi, sunbelt_id)] = _read(groups_portal, select(
        Provider.id, Provider.npi, Provider.group_id).where(Provider.name.like("%Tampa")))
    [(sunbelt_npi,)] = _read(groups_portal, select(ProviderGroup.npi)
                             .where(ProviderGroup.id == sunbelt_id))
    _choose(page, "Provider group", f"{seed._GROUPS[0][0]} (NPI {sunbelt_npi}, "
                                    f"{_count(groups_portal, sunbelt_id)} providers)")
    _choose(page, "Provider", f"Sunbelt Occupational Medicine - Tampa (NPI {tampa_npi})")
    move = page.get_by_role("button", name="Move provider")
    expect(move).to_be_disabled()  # no group chosen yet
    _choose(page, "Move to group", f"Gulf Coast Occupational Health (NPI {GULF_NPI})")
    page.get_by_role("textbox", name="Reason for the move (kept in the audit trail)").fill(
        "Tampa clinic sold to Gulf Coast")
    page.keyboard.press("Tab")
    settled(page)
    move.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("The group admins of Sunbelt Occupational Medicine lose access "
                              "to it.")).to_be_visible()
    dialog.get_by_role("button", name="Move provider").click()
    expect(_alert(page, "Success").filter(has_text="Provider moved")).to_be_visible()
    expect(page.get_by_role("combobox", name="Provider group", exact=True)).to_have_value(
        f"Gulf Coast Occupational Health (NPI {GULF_NPI}, 2 providers)")
    _in_grid(page, "Sunbelt Occupational Medicine - Tampa")
    [(details,)] = _read(groups_portal, select(AuditEvent.details)
                         .where(AuditEvent.action == "provider.moved"))
    assert details["reason"] == "Tampa clinic sold to Gulf Coast"
    assert details["from_group_id"] == sunbelt_id and tampa_id
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _count(portal: dict, group_id: int) -> int:
    return len(_read(portal, select(Provider.id).where(Provider.group_id == group_id)))


def test_a_provider_admin_sees_their_provider_only_and_changes_its_fax(groups_portal, context):
    page = context.new_page()
    sign_in(page, groups_portal["url"], "clinicadmin@demo.test")
    _open_screen(page)
    [(houston_id, houston_npi)] = _read(groups_portal, select(Provider.id, Provider.npi)
                                        .where(Provider.name.like("%Houston")))
    expect(page.get_by_test_id("stExpander").filter(has_text="Register new provider")
           ).to_have_count(0)
    _choose(page, "Provider", f"Sunbelt Occupational Medicine - Houston (NPI {houston_npi})")
    form = page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name="Save details"))
    expect(form.get_by_role("textbox", name="Provider name", exact=True)).to_be_disabled()
    form.get_by_role("textbox", name="Fax", exact=True).fill("(713) 555-0999")
    form.get_by_role("button", name="Save details").click()
    expect(_alert(page, "Success").filter(has_text="Provider details saved.")).to_be_visible()
    settled(page)
    expect(form.get_by_role("textbox", name="Fax", exact=True)).to_have_value("(713) 555-0999")
    expect(page.get_by_role("button", name="Deactivate provider")).to_have_count(0)
    [(fax,)] = _read(groups_portal, select(Provider.fax).where(Provider.id == houston_id))
    assert fax == "(713) 555-0999"


def test_a_deactivated_provider_leaves_the_upload_form(groups_portal, context, tmp_path):
    page = context.new_page()
    sign_in(page, groups_portal["url"], "groupadmin@demo.test")
    [(dallas_npi,)] = _read(groups_portal, select(Provider.npi).where(Provider.name.like("%Dallas")))
    dallas = f"Sunbelt Occupational Medicine - Dallas (NPI {dallas_npi})"
    _open_screen(page)
    _choose(page, "Provider", dallas)
    page.get_by_role("button", name="Deactivate provider").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"{dallas} will take no more uploads.")).to_be_visible()
    dialog.get_by_role("button", name="Deactivate").click()
    expect(_alert(page, "Success").filter(has_text="Provider deactivated")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate provider")).to_be_visible()
    # The picker names it as it now is, still chosen.
    expect(page.get_by_role("combobox", name="Provider", exact=True)).to_have_value(
        f"{dallas} - deactivated")
    _in_grid(page, "deactivated")
    [(deactivated_at,)] = _read(groups_portal, select(Provider.deactivated_at)
                                .where(Provider.npi == dallas_npi))
    assert deactivated_at is not None

    # The upload form no longer lists Dallas, and a manifest naming it is refused with the reason.
    _start_upload(page, tmp_path, "dallas", dallas_npi, "Closedown,Dana,1985-03-04,EDA001")
    expect(page.get_by_text("Your providers (NPI):")).to_be_visible()
    expect(page.get_by_text("Sunbelt Occupational Medicine - Houston (", exact=False)).to_be_visible()
    # Dallas is listed only among the deactivated providers, which the form says take no uploads.
    expect(page.get_by_text(f"Sunbelt Occupational Medicine - Dallas ({dallas_npi})")).to_have_count(1)
    lists = page.locator("[data-testid=stMain] ul")
    expect(lists.last).to_have_text(f"Sunbelt Occupational Medicine - Dallas ({dallas_npi})")
    expect(page.get_by_text("Deactivated, so they take no uploads", exact=False)).to_be_visible()
    expect(lists.first).not_to_contain_text(dallas_npi)
    _add_manifest(page, tmp_path, "dallas")
    page.get_by_role("button", name="Post 1 report").click()
    expect(page.get_by_role("heading", name="Last upload")).to_be_visible()
    expect(page.get_by_text("This provider is deactivated: reports can no longer be posted",
                            exact=False)).to_have_count(1)
    assert not _read(groups_portal, select(Report.id).join(Provider)
                     .where(Provider.npi == dallas_npi, Report.posted_at > deactivated_at))
