"""The Accounting of disclosures screen as a privacy officer uses it: a patient's name shown as
typed (never as Markdown), the accounting tied to the patient and period it was produced for."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Patient
from tests.pages.conftest import literal_texts, open_screen, sign_in, titles

HOSTILE = "**Bold** [click](http://evil.example)"


def _patients(db, count: int) -> list[Patient]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(Patient).order_by(Patient.id).limit(count)))


def _find(app, employee_id: str):
    app.text_input(key="disclosures_employee").input(employee_id)
    app.button(key="FormSubmitter:disclosures_find-Find patient").click().run()


def test_a_patients_name_is_shown_as_typed_and_the_accounting_stays_with_its_patient(
        app, demo_db, fake_clock_app):
    first, second = _patients(demo_db, 2)
    with demo_db.transaction() as session:
        session.get(Patient, first.id).first_name = HOSTILE
    sign_in(app, "privacy@demo.test")
    open_screen(app, "disclosures")
    assert titles(app) == ["Accounting of disclosures"]

    _find(app, first.employee_id)
    picker = app.selectbox[0]
    assert picker.value is None  # nobody is chosen for the officer
    picker.select(first.id).run()
    app.button(key="disclosures_produce").click().run()
    shown = [text for text in literal_texts(app) if text.startswith("<p>Patient:")]
    assert shown == [f"<p>Patient: {first.last_name}, **Bold** [click](http://evil.example), "
                     f"born {first.date_of_birth:%Y-%m-%d}, employee ID {first.employee_id} "
                     f"(patient {first.id})</p>"]
    assert not any("evil.example" in m.value for m in app.markdown)
    assert not any("evil.example" in c.value for c in app.caption)

    # Another search: the earlier accounting is not shown under the new patient.
    _find(app, second.employee_id)
    assert app.selectbox[0].value is None
    assert not [text for text in literal_texts(app) if text.startswith("<p>Patient:")]
    app.selectbox[0].select(second.id).run()
    assert not [text for text in literal_texts(app) if text.startswith("<p>Patient:")]
