"""The audit trail in words: every action has a label, targets read as names with their ids,
details read as sentences, the action filter works by label, and only reviewers see any of it."""

from __future__ import annotations

import ast
import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import event

from services import audit
from services.errors import PermissionDenied
from services.identity import memberships
from services.policy import Grant, Role
from services.privacy import audit_review
from services.privacy.audit_review import AuditFilter
from services.reports import access
from tests.services.report_world import download_bundle, load_principal

SERVICES = Path(__file__).resolve().parents[2] / "services"


def _written_action_names() -> set[str]:
    """Every action name a service passes to the trail, read from the source: `action="..."`
    keywords and defaults, the name argument of the memberships and invitations helpers, and
    module constants named like `_FAILED`."""
    names = set()
    for path in SERVICES.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "action":
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    names.add(node.value.value)
            elif isinstance(node, ast.arguments):
                for arg, default in zip(node.kwonlyargs, node.kw_defaults):
                    if arg.arg == "action" and isinstance(default, ast.Constant):
                        names.add(default.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_record", "_audit"):
                names |= {a.value for a in node.args if isinstance(a, ast.Constant)
                          and isinstance(a.value, str)}
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
                    isinstance(t, ast.Name) and t.id == "_FAILED" for t in node.targets):
                names.add(node.value.value)
    return names


def test_every_action_the_services_write_has_words():
    written = _written_action_names()
    assert {"report.previewed", "user.role_granted", "invitation.sent", "registration.failed",
            "permission.denied"} <= written  # the scan finds each way a name is passed
    assert sorted(written - set(audit.ACTIONS)) == []
    labels = list(audit.ACTIONS.values())
    assert len(set(labels)) == len(labels), "two actions share words, so the filter cannot tell them apart"
    assert all(words and words != code for code, words in audit.ACTIONS.items())


def test_an_action_without_words_is_refused_when_recorded(db):
    with pytest.raises(ValueError, match="report.shredded"):
        with db.transaction() as session:
            audit.record(session, action="report.shredded", target_type="report", target_id=1)


def _reviewer(db, make_user):
    return load_principal(db, make_user("reviewer@x.test", name="Pat Privacy", staff=("privacy_officer",)))


def _admin(db, make_user):
    return load_principal(db, make_user("sysadmin@x.test", name="Sam Admin", staff=("system_admin",)))


def _lines(db, reviewer, **where):
    return audit_review.search(db, reviewer, where=AuditFilter(**where)).lines


def test_a_role_grant_reads_as_a_sentence_naming_the_person_and_the_place(world, make_user):
    db = world.db
    admin, reviewer = _admin(db, make_user), _reviewer(db, make_user)
    ana = make_user("ana@x.test", name="Ana Diaz")
    staff = Grant(Role.PROVIDER_STAFF, group_id=world.group["north"], provider_id=world.provider["p1a"])
    memberships.grant(db, admin, user_id=ana, role=staff)
    memberships.revoke(db, admin, user_id=ana, role=staff)

    revoked, granted = _lines(db, reviewer, target_type="user", target_id=str(ana))
    assert granted.action == "Role granted" and granted.target == f"Ana Diaz (user {ana})"
    assert granted.sentence == f"Role granted to Ana Diaz (user {ana}): Provider staff at Northside Main"
    assert granted.details() == ("Role: Provider staff at Northside Main; Roles before: none; "
                                 "Roles after: Provider staff at Northside Main")
    assert revoked.sentence == f"Role removed from Ana Diaz (user {ana}): Provider staff at Northside Main"
    assert "Roles after: none" in revoked.details()


def test_several_roles_read_as_a_list_inside_one_detail(world, make_user):
    db = world.db
    admin, reviewer = _admin(db, make_user), _reviewer(db, make_user)
    ana = make_user("ana@x.test", name="Ana Diaz")
    for group, provider in (("north", "p1a"), ("south", "p2a")):
        memberships.grant(db, admin, user_id=ana, role=Grant(
            Role.PROVIDER_STAFF, group_id=world.group[group], provider_id=world.provider[provider]))
    second = _lines(db, reviewer, target_type="user", target_id=str(ana))[0]
    parts = second.details().split("; ")
    assert parts[:2] == ["Role: Provider staff at Southside Main",
                         "Roles before: Provider staff at Northside Main"]
    assert parts[2] in ("Roles after: Provider staff at Northside Main and Provider staff at Southside Main",
                        "Roles after: Provider staff at Southside Main and Provider staff at Northside Main")


def test_a_staff_opening_names_the_report_and_its_purpose_never_the_patient(world, make_user):
    db, reviewer = world.db, _reviewer(world.db, make_user)
    support = world.principal("support")
    report_id = world.report["acme_ccf"]
    access.pdf_bytes(db, support, report_id, blob_store=world.store,
                     staff_purpose=access.purpose("HIPAA incident review", "INC-3"))
    download_bundle(world, support, [world.report[k] for k in ("acme_ccf", "acme_injury", "globex_ccf")],
                    staff_purpose=access.purpose("Legal or records request"))

    downloads = _lines(db, reviewer, labels=("Report downloaded",))
    single = downloads[-1]
    assert single.sentence == f"Report downloaded: Report {report_id}"
    assert single.details() == "Purpose: HIPAA incident review (ticket INC-3)"
    assert downloads[0].details() == "Purpose: Legal or records request; In a ZIP bundle of 3 reports"
    everything = " ".join(f"{line.sentence} {line.target} {line.details()}" for line in downloads)
    assert "Maria" not in everything and "Gonzalez" not in everything


def test_names_for_a_page_come_from_one_query_whatever_the_page_holds(world, make_user):
    db, reviewer = world.db, _reviewer(world.db, make_user)
    with db.transaction() as session:
        for key, user_id in world.user.items():
            audit.record(session, action="user.contact_changed", target_type="user", target_id=user_id,
                         details={"changed": ["name"]})
        for key, account_id in world.account.items():
            audit.record(session, action="dashboard.exported", target_type="account",
                         target_id=account_id, details={"rows": 2})
        for key, provider_id in world.provider.items():
            audit.record(session, action="registration.failed", target_type="provider",
                         target_id=provider_id, details={"reason": "code_expired",
                                                         "group_id": world.group["south"]})
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        lines = _lines(db, reviewer)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # the page itself, then every name on it
    targets = {line.target for line in lines}
    assert f"Acme Freight (account {world.account['acme']})" in targets
    assert f"Northside East (provider {world.provider['p1b']})" in targets
    assert f"Acme User (user {world.user['acme_user']})" in targets
    assert (f"Reason: code expired; Provider group: Southside Clinics (provider group "
            f"{world.group['south']})") in {line.details() for line in lines}


def test_unknown_details_and_targets_still_read_as_words(db, make_user, fake_clock):
    reviewer = _reviewer(db, make_user)
    locked_until = datetime(2026, 11, 2, 13, 15, tzinfo=timezone.utc)
    with db.transaction() as session:
        audit.record(session, action="user.locked", target_type="user", target_id=999,
                     details={"failed_attempts": 5, "locked_until": locked_until.isoformat()})
        audit.record(session, action="demo.seeded", target_type="warehouse", target_id="w-1",
                     details={"shelf_count": 3, "fully_stocked": True, "by_colour": {"red": 1}})
    seeded, locked = _lines(db, reviewer)
    assert seeded.target == "Warehouse w-1"
    assert seeded.details() == "Shelf count: 3; Fully stocked: yes; By colour: red 1"
    assert locked.target == "User 999"  # a person no longer in the portal keeps their id
    assert locked.details() == "After 5 failed attempts; Locked until: 2026-11-02 13:15 UTC"
    assert (locked.details(lambda moment: f"at {moment:%H:%M}")
            == "After 5 failed attempts; Locked until: at 13:15")


def test_the_action_filter_takes_labels_and_keeps_working_with_the_other_filters(db, make_user, fake_clock):
    reviewer = _reviewer(db, make_user)
    with db.transaction() as session:
        for action, outcome in (("sign_in", "failure"), ("sign_in", "success"), ("report.opened", "success"),
                                ("report.previewed", "success"), ("user.locked", "success")):
            audit.record(session, action=action, outcome=outcome, actor_email="a@x.test",
                         target_type="report" if action.startswith("report") else "user", target_id=4)
    assert "Report opened" in audit_review.action_labels()
    assert audit_review.action_labels() == sorted(audit_review.action_labels())
    opened = _lines(db, reviewer, labels=("Report opened", "Report previewed"))
    assert sorted(line.event.action for line in opened) == ["report.opened", "report.previewed"]
    failed = _lines(db, reviewer, labels=("Sign-in",), outcome="failure")
    assert [(line.action, line.event.outcome) for line in failed] == [("Sign-in", "failure")]
    assert _lines(db, reviewer, labels=("Report shredded",)) == []
    assert [line.action for line in _lines(db, reviewer, action="user.locked")] == ["Account locked"]


@pytest.mark.parametrize("who", [("support_rep",), ("manager",), ()])
def test_only_reviewers_read_the_trail_in_words(db, make_user, who):
    nosy = load_principal(db, make_user("nosy@x.test", name="Nosy", staff=who))
    with pytest.raises(PermissionDenied):
        audit_review.search(db, nosy, where=AuditFilter(labels=("Role granted",)))
    with pytest.raises(PermissionDenied):
        audit_review.export_csv(db, nosy, where=AuditFilter())


def test_the_export_has_the_words_and_keeps_names_formula_safe(world, make_user):
    db = world.db
    admin, reviewer = _admin(db, make_user), _reviewer(db, make_user)
    sly = make_user("sly@x.test", name='=HYPERLINK("http://x.test","Sly")')
    memberships.grant(db, admin, user_id=sly, role=Grant(Role.ACCOUNT_USER, account_id=world.account["acme"]))
    data = audit_review.export_csv(db, reviewer, where=AuditFilter(labels=("Role granted",)))
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == ["Event", "Time (UTC)", "Actor", "What happened", "Action", "Action code", "Outcome",
                      "Target", "Target type", "Target id", "Details"]
    name = '=HYPERLINK("http://x.test","Sly")'
    assert row[3] == f"Role granted to {name} (user {sly}): Client account user at Acme Freight"
    assert row[4:8] == ["Role granted", "user.role_granted", "success", f"'{name} (user {sly})"]
    assert row[10].startswith("Role: Client account user at Acme Freight")
    exported = _lines(db, reviewer, labels=("Audit events exported",))[0]
    assert exported.details() == "1 row; Filter: labels Role granted"
