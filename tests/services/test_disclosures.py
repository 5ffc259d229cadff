"""A patient's accounting of disclosures, as a privacy officer produces it for the patient: every
delivery, re-delivery, opening, preview, download (alone or in a bundle), correction, withdrawal
and removal of a report received in error appears once, in date order, for that patient only;
the period's bounds hold; nobody else may produce it; producing it is itself recorded."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from db.models import Patient
from services.errors import InvalidInput
from services.privacy import audit_words, disclosure_files, disclosures, incidents
from services.reports import access, corrections
from tests.services.report_world import (
    PATIENTS,
    download_bundle,
    events,
    expect_denial,
    pdf_for,
)

PURPOSE = access.purpose("Support request from the client or clinic")


def _produce(world, user_key: str = "privacy", patient: str = "john", **period):
    return disclosures.account(world.db, world.principal(user_key),
                               patient_id=world.patient[patient], **period)


def _shape(accounting) -> list[tuple]:
    return [(line.what, line.report_id, line.account, line.person) for line in accounting.lines]


@pytest.fixture
def story(world, fake_clock):
    """John Smith's reports go through everything that can happen to a report, one step a day,
    with Maria Gonzalez's report opened on the same days."""
    john_injury = world.report["acme_injury"]  # to Acme and Payco
    john_recheck = world.report["acme_recheck"]  # to Acme and Payco
    john_notice = world.report["acme_first_notice"]  # to Acme and Claimsco
    step = iter(range(1, 100))

    def next_day():
        fake_clock.current = datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc) + timedelta(
            days=next(step))
        return fake_clock.current

    days = {}
    days["opened"] = next_day()
    access.open_report(world.db, world.principal("acme_user"), john_injury)
    access.open_report(world.db, world.principal("acme_user"), world.report["acme_ccf"])  # Maria
    days["previewed"] = next_day()
    access.first_page(world.db, world.principal("payco_user"), john_injury, blob_store=world.store)
    days["downloaded"] = next_day()
    access.pdf_bytes(world.db, world.principal("payco_user"), john_recheck, blob_store=world.store)
    days["bundle"] = next_day()
    download_bundle(world, world.principal("tpa_user"), [john_notice])
    days["staff"] = next_day()
    access.pdf_bytes(world.db, world.principal("support"), john_notice, blob_store=world.store,
                     staff_purpose=PURPOSE)
    days["in_error"] = next_day()
    incidents.flag(world.db, world.principal("payco_user"), report_id=john_recheck)
    days["corrected"] = next_day()
    correction = corrections.correct(world.db, world.principal("admin_p1b"), report_id=john_injury,
                                     data=pdf_for("injury-fixed", 1), blob_store=world.store)
    days["withdrawn"] = next_day()
    corrections.withdraw(world.db, world.principal("admin_p1b"), report_id=john_notice,
                         reason="duplicate")
    days["after"] = next_day()
    return {"injury": john_injury, "recheck": john_recheck, "notice": john_notice,
            "correction": correction, "days": days}


def test_every_kind_of_event_appears_once_in_date_order(db, world, story):
    accounting = _produce(world)
    injury, recheck, notice, correction = (story[k] for k in ("injury", "recheck", "notice",
                                                               "correction"))
    assert _shape(accounting) == [
        ("Delivered", injury, "Acme Freight", ""),
        ("Delivered", injury, "Payco Mutual", ""),
        ("Delivered", recheck, "Acme Freight", ""),
        ("Delivered", recheck, "Payco Mutual", ""),
        ("Delivered", notice, "Acme Freight", ""),
        ("Delivered", notice, "Claims Partners", ""),
        ("Opened", injury, "Acme Freight", "Acme User"),
        ("Previewed", injury, "Payco Mutual", "Payco User"),
        ("Downloaded", recheck, "Payco Mutual", "Payco User"),
        ("Downloaded in a bundle", notice, "Claims Partners", "Tpa User"),
        ("Downloaded", notice, disclosures.STAFF_OR_CLINIC, "Support"),
        ("Removed: received in error", recheck, "Payco Mutual", ""),
        ("Delivered", correction, "Acme Freight", ""),
        ("Delivered", correction, "Payco Mutual", ""),
        ("Replaced by a correction", injury, "Acme Freight, Payco Mutual", ""),
        ("Withdrawn", notice, "Acme Freight, Claims Partners", ""),
    ]
    times = [line.at for line in accounting.lines]
    assert times == sorted(times)
    by_what = {line.what: line for line in accounting.lines}
    assert by_what["Replaced by a correction"].note == f"Replaced by report {correction}"
    assert by_what["Withdrawn"].note == "Reason: Duplicate"
    assert by_what["Downloaded in a bundle"].note == "Bundle (zip)"
    assert "Purpose: Support request" in by_what["Downloaded"].note or any(
        "Purpose: Support request" in line.note for line in accounting.lines)
    assert by_what["Opened"].email == "acme_user@x.test"
    assert (accounting.patient_name, accounting.employee_id, accounting.reports) == (
        "Smith, John", "E200", 4)


def test_another_patients_reports_never_appear(db, world, story):
    johns = {story[k] for k in ("injury", "recheck", "notice", "correction")}
    assert {line.report_id for line in _produce(world).lines} == johns
    marias = _produce(world, patient="maria")
    maria_ids = {world.report[k] for k in ("acme_ccf", "acme_archived", "acme_withdrawn")}
    assert {line.report_id for line in marias.lines} <= maria_ids
    assert ("Opened", world.report["acme_ccf"], "Acme Freight", "Acme User") in _shape(marias)
    assert not {line.report_id for line in marias.lines} & johns


def test_a_redelivery_is_a_line_naming_the_accounts(db, world, fake_clock):
    archived = world.report["acme_archived"]  # Maria's, to Acme
    fake_clock.current = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    access.redeliver(world.db, world.principal("support"), archived)
    lines = [line for line in _produce(world, patient="maria").lines if line.report_id == archived]
    assert [(line.what, line.account) for line in lines] == [
        ("Delivered", "Acme Freight"), ("Re-delivered", "Acme Freight")]


def test_the_period_bounds_are_whole_days_in_the_readers_zone(db, world, story):
    days = story["days"]
    only = _produce(world, start=days["previewed"].date(), end=days["downloaded"].date())
    assert [line.what for line in only.lines] == ["Previewed", "Downloaded"]
    assert (only.start, only.end) == (days["previewed"].date(), days["downloaded"].date())
    # A day in the past with nothing, and a period that ends before it starts.
    assert _produce(world, start=date(2020, 1, 1), end=date(2020, 12, 31)).lines == ()
    with pytest.raises(InvalidInput, match="ends before it starts"):
        _produce(world, start=date(2026, 11, 5), end=date(2026, 11, 4))


def test_the_default_period_is_the_last_six_years(db, world, story, fake_clock):
    accounting = _produce(world)
    today = fake_clock.current.date()
    assert (accounting.start, accounting.end) == (today.replace(year=today.year - 6), today)
    assert disclosures.default_period(date(2028, 2, 29)) == (date(2022, 2, 28), date(2028, 2, 29))
    # Seven years on, the same deliveries are outside the default period.
    fake_clock.current = fake_clock.current + timedelta(days=7 * 366)
    assert _produce(world).lines == ()


@pytest.mark.parametrize("user_key", ["support", "account_rep", "manager", "acme_user",
                                      "gadmin_north", "staff_p1a"])
def test_only_privacy_officers_and_system_admins_produce_it(db, world, user_key):
    principal = world.principal(user_key)
    patient_id = world.patient["john"]
    expect_denial(db, principal, lambda: disclosures.account(db, principal, patient_id=patient_id),
                  target_type="patient", target_id=patient_id, action="account_for_disclosures")
    expect_denial(db, principal, lambda: disclosures.find_patients(db, principal, name="smith"),
                  target_type="patient", target_id=None, action="account_for_disclosures")
    expect_denial(db, principal, lambda: disclosure_files.download(
        db, principal, patient_id=patient_id, start=None, end=None, file_format="pdf"),
        target_type="patient", target_id=patient_id, action="account_for_disclosures")


def test_a_system_admin_produces_it_too(db, world, make_user, story):
    admin = make_user("admin@x.test", name="Ada Admin", staff=("system_admin",))
    from tests.services.report_world import load_principal
    accounting = disclosures.account(db, load_principal(db, admin), patient_id=world.patient["john"])
    assert _shape(accounting) == _shape(_produce(world))


def test_producing_it_is_recorded_with_ids_only(db, world, story):
    before = len(events(db))
    accounting = _produce(world)
    name, data = disclosure_files.download(db, world.principal("privacy"),
                                           patient_id=world.patient["john"], start=None, end=None,
                                           file_format="csv")
    new = events(db)[before:]
    assert [(e.action, e.outcome, e.target_type, e.target_id) for e in new] == [
        ("disclosures.accounted", "success", "patient", str(world.patient["john"]))] * 2
    assert new[0].actor_user_id == world.user["privacy"]
    assert new[0].details == {"period": f"{accounting.start} to {accounting.end}", "reports": 4,
                              "lines": len(accounting.lines), "output": "screen"}
    assert new[1].details["output"] == "csv"
    first, last, *_ = PATIENTS["john"]
    with db.transaction(write=False) as session:
        words = audit_words.lines(session, new)
    assert words[0].sentence == f"Accounting of disclosures produced: Patient {world.patient['john']}"
    assert words[0].details() == (f"Period: {accounting.start} to {accounting.end}; Reports: 4; "
                                  f"Lines: {len(accounting.lines)}; Output: screen")
    for event in new:
        assert first not in str(event.details) and last not in str(event.details)
    assert first not in name and last not in name
    assert name == (f"accounting-of-disclosures_patient-{world.patient['john']}_"
                    f"{accounting.start}_to_{accounting.end}.csv")


def test_the_csv_has_every_line_and_no_cell_a_spreadsheet_runs(db, world, story, make_user):
    from services.reports import access as report_access
    from tests.services.report_world import load_principal
    hostile = make_user("hostile@x.test", name="=HYPERLINK(\"http://x\")",
                        accounts=((world.account["acme"], "account_user"),))
    report_access.open_report(db, load_principal(db, hostile), world.report["acme_recheck"])
    accounting = _produce(world)
    _, data = disclosure_files.download(db, world.principal("privacy"),
                                        patient_id=world.patient["john"], start=None, end=None,
                                        file_format="csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(disclosure_files.CSV_HEADER)
    assert [r[0] for r in rows[1:]] == [line.at.astimezone(timezone.utc).isoformat()
                                        for line in accounting.lines]
    assert [(r[3], int(r[1]), r[4], r[5]) for r in rows[1:]] == [
        (what, report_id, account, person if not person.startswith("=") else "'" + person)
        for what, report_id, account, person in _shape(accounting)]
    assert "'=HYPERLINK(\"http://x\")" in [r[5] for r in rows]


def test_the_pdf_names_the_portal_patient_period_and_pages(db, world, story):
    name, data = disclosure_files.download(db, world.principal("privacy"),
                                           patient_id=world.patient["john"], start=None, end=None,
                                           file_format="pdf")
    accounting = _produce(world)
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "ResultsDesk: Accounting of disclosures" in text
    assert "Smith, John" in text and "1975-02-03" in text and "E200" in text
    assert f"{accounting.start:%Y-%m-%d} to {accounting.end:%Y-%m-%d}" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    for line in accounting.lines:
        assert disclosure_files.when(accounting, line.at) in text
        assert f"Report {line.report_id}" in text
    assert text.count("Delivered") == sum(line.what == "Delivered" for line in accounting.lines)
    assert name.endswith(".pdf")


def test_a_long_accounting_runs_over_pages_with_their_numbers(db, world, fake_clock):
    for hour in range(120):
        fake_clock.current = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc) + timedelta(hours=hour)
        access.open_report(world.db, world.principal("acme_user"), world.report["acme_ccf"])
    _, data = disclosure_files.download(db, world.principal("privacy"),
                                        patient_id=world.patient["maria"], start=None, end=None,
                                        file_format="pdf")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 2
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {len(reader.pages)}" in page.extract_text()
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.count("Opened") == 120


def test_finding_a_patient_by_name_birth_date_or_employee_id(db, world):
    officer = world.principal("privacy")
    found = disclosures.find_patients(db, officer, name="smith")
    assert [(p.name, p.employee_id) for p in found] == [("Smith, John", "E200"),
                                                        ("Smithers, Joan", "E300")]
    assert found[0].reports == 3 and found[0].employer == "Acme Freight"
    assert [p.name for p in disclosures.find_patients(db, officer, name="jo smi")] == [
        "Smith, John", "Smithers, Joan"]
    assert [p.name for p in disclosures.find_patients(db, officer,
                                                      date_of_birth=date(1990, 7, 9))] == [
        "Smithers, Joan"]
    assert [p.name for p in disclosures.find_patients(db, officer, employee_id=" E400 ")] == [
        "Wei, Li"]
    assert disclosures.find_patients(db, officer, name="smith", employee_id="E400") == []
    with pytest.raises(InvalidInput, match="name, date of birth or employee ID"):
        disclosures.find_patients(db, officer)


def test_the_pdf_prints_names_in_other_alphabets_as_written(db, world):
    with world.db.transaction() as session:
        patient = session.get(Patient, world.patient["john"])
        patient.last_name, patient.first_name = "Nguyễn-Wróbel", "Łukasz Ελένη 山田"
    _, data = disclosure_files.download(db, world.principal("privacy"),
                                        patient_id=world.patient["john"], start=None, end=None,
                                        file_format="pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    # Letters the embedded font lacks show as "?", never as nothing.
    assert "Nguyễn-Wróbel, Łukasz Ελένη ?? (patient" in text
