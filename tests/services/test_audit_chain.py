"""Tamper evidence: editing one audit row makes the verifier name that event."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select, text

from commands import verify_audit
from db.models import AuditEvent, User
from services import audit, principals
from services.privacy import audit_chain, audit_review


def _write_events(db, count: int) -> list[int]:
    with db.transaction() as session:
        for index in range(count):
            audit.record(session, action="sign_in", actor_email=f"user{index}@example.test",
                         details={"n": index, "nested": {"b": 2, "a": 1}})
    with db.transaction(write=False) as session:
        return session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()


def _tamper(db, sql: str, **params) -> None:
    """Change the table behind the portal's back, as someone with database access could."""
    with db.engine.begin() as connection:
        if db.is_sqlite:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(sql), params)


def test_an_untouched_chain_verifies(db):
    ids = _write_events(db, 12)
    result = audit_chain.verify(db)
    assert result.intact and result.checked == len(ids)


def test_editing_one_row_names_that_event(db):
    ids = _write_events(db, 12)
    _tamper(db, "UPDATE audit_events SET actor_email = 'someone.else@example.test' WHERE id = :id",
            id=ids[6])
    assert audit_chain.verify(db).first_bad_id == ids[6]


def test_removing_a_row_breaks_the_chain_at_the_next_one(db):
    ids = _write_events(db, 12)
    _tamper(db, "DELETE FROM audit_events WHERE id = :id", id=ids[4])
    assert audit_chain.verify(db).first_bad_id == ids[5]


@pytest.mark.parametrize("broken", [0, 11])
def test_the_first_and_the_last_row_are_covered_too(db, broken):
    ids = _write_events(db, 12)
    _tamper(db, "UPDATE audit_events SET action = 'sign_out' WHERE id = :id", id=ids[broken])
    assert audit_chain.verify(db).first_bad_id == ids[broken]


def test_the_command_exits_1_and_names_the_event(db, monkeypatch, capsys):
    ids = _write_events(db, 3)
    _tamper(db, "UPDATE audit_events SET outcome = 'failure' WHERE id = :id", id=ids[1])
    monkeypatch.setattr(verify_audit, "open_database", lambda: db)
    assert verify_audit.main() == 1
    assert f"broken at event {ids[1]}" in capsys.readouterr().err


def test_the_audit_export_is_formula_safe_and_itself_audited(db, make_user):
    with db.transaction() as session:
        audit.record(session, action="user.contact_changed", actor_email="=cmd@example.test",
                     target_type="user", target_id="7", details={"changed": ["name"]})
    reviewer_id = make_user("privacy@example.test", staff=("privacy_officer",))
    with db.transaction(write=False) as session:
        reviewer = principals.load(session, session.get(User, reviewer_id))
    data = audit_review.export_csv(db, reviewer, where=audit_review.AuditFilter(target_type="user"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][3:6] == ["What happened", "Action", "Action code"]
    assert rows[1][2] == "'=cmd@example.test" and rows[1][3:6] == [
        "Contact details changed: User 7", "Contact details changed", "user.contact_changed"]
    with db.transaction(write=False) as session:
        exported = session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.exported"))
    assert exported.actor_email == "privacy@example.test" and exported.details["rows"] == 1
