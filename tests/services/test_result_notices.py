"""New-result notices: one email per run to each active user who switched them on and has new,
unopened reports in view since the last notice; the email says how many and links to the portal,
and never names a patient or a report. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from db.engine import Database
from db.models import Account, OutboxMessage, Patient, Provider, ProviderGroup, ReportRead, User
from services import clock
from services.mail import outbox
from services.mail.outbox import EmlFolderTransport
from services.reports import report_types
from services.reports.notices import NoticeRun, result_notices_enabled, send, set_result_notices
from tests.conftest import START
from tests.services.report_world import add_report, events, load_principal, npi_number

PORTAL = "https://results.example.test"
SUBJECT = "New reports in ResultsDesk"
PATIENTS = {  # key: (first, last, employee id, employer)
    "zeb": ("Zebulon", "Quixote", "EMP-98765", "acme"),
    "pip": ("Philippa", "Marchbanks", "EMP-24680", "acme"),
    "olu": ("Oluwaseun", "Abernathy", "EMP-13579", "globex"),
}


@dataclass
class Town:
    db: Database
    account: dict[str, int]
    provider: int
    patient: dict[str, int]
    user: dict[str, int]

    def report(self, *, patient: str = "zeb", report_type: str = "ccf", account: str = "acme",
               status: str = "available") -> int:
        """A report delivered now (the fake clock), routed to one account."""
        return add_report(self.db, report_type=report_type, patient_id=self.patient[patient],
                          provider_id=self.provider, posted_at=clock.now(),
                          recipients=(self.account[account],), status=status,
                          service_date=date(2026, 10, 30), label=f"{report_type}-{_serial()}")

    def switch(self, user_key: str, enabled: bool) -> None:
        set_result_notices(self.db, load_principal(self.db, self.user[user_key]), enabled=enabled)


_counter = iter(range(1, 10_000))


def _serial() -> int:
    return next(_counter)


@pytest.fixture
def town(db, fake_clock, make_user, monkeypatch) -> Town:
    monkeypatch.setenv("RESULTSDESK_PORTAL_URL", PORTAL + "/")
    with db.transaction() as session:
        accounts = {"acme": Account(name="Acme Freight", kind="employer", created_at=START),
                    "globex": Account(name="Globex Logistics", kind="employer", created_at=START)}
        group = ProviderGroup(name="Northside Clinics", npi=npi_number(1), created_at=START)
        session.add_all([*accounts.values(), group])
        session.flush()
        provider = Provider(group_id=group.id, name="Northside Main", npi=npi_number(11), state="TX")
        patients = {key: Patient(first_name=first, last_name=last, date_of_birth=date(1980, 4, 1),
                                 employee_id=employee_id, employer_account_id=accounts[employer].id)
                    for key, (first, last, employee_id, employer) in PATIENTS.items()}
        session.add_all([provider, *patients.values()])
        session.flush()
        account_ids = {k: v.id for k, v in accounts.items()}
        provider_id = provider.id
        patient_ids = {k: v.id for k, v in patients.items()}
    users = {
        "casey": make_user("casey@x.test", name="Casey Client",
                           accounts=((account_ids["acme"], "account_user"),)),
        "dana": make_user("dana@x.test", name="Dana Client",
                          accounts=((account_ids["acme"], "account_user"),)),
        "manny": make_user("manny@x.test", name="Manny Manager", staff=("manager",)),
    }
    return Town(db=db, account=account_ids, provider=provider_id, patient=patient_ids, user=users)


def queued(db: Database) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def assert_private(db: Database, body: str) -> None:
    """Nothing in a notice identifies a patient or says what kind of report arrived."""
    for first, last, employee_id, _ in PATIENTS.values():
        for value in (first, last, employee_id):
            assert value not in body
    for label in report_types.names(db).values():
        assert label.lower() not in body.lower()
    for word in ("ccf", "injury", "referral", "Acme", "Globex", "Northside"):
        assert word.lower() not in body.lower()


def test_new_reports_give_one_notice_with_the_count_a_link_and_no_details(town, fake_clock, tmp_path):
    town.switch("casey", True)
    fake_clock.advance(minutes=30)
    town.report(patient="zeb", report_type="ccf")
    town.report(patient="pip", report_type="injury_status")
    town.report(patient="zeb", report_type="referral")
    # Not in Casey's view: another employer's report, and an archived one.
    town.report(patient="olu", account="globex")
    town.report(patient="pip", status="archived")
    fake_clock.advance(minutes=30)

    run = send(town.db)

    assert run == NoticeRun(users_checked=1, emails_queued=1)
    message, = queued(town.db)
    assert (message.kind, message.to_address, message.subject, message.status) == (
        "new_results", "casey@x.test", SUBJECT, "pending")
    assert "3 new reports" in message.body
    assert f"{PORTAL}/reports" in message.body
    assert_private(town.db, message.body)
    assert [e.details for e in events(town.db, "notices.queued")] == [{"users_checked": 1, "emails": 1}]

    # Straight away again: nothing new since the last notice.
    fake_clock.advance(minutes=1)
    assert send(town.db) == NoticeRun(users_checked=1, emails_queued=0)
    assert len(queued(town.db)) == 1
    assert len(events(town.db, "notices.queued")) == 1

    # One more report: one more notice, for that one only.
    fake_clock.advance(minutes=10)
    town.report(patient="pip", report_type="transcription")
    fake_clock.advance(minutes=10)
    assert send(town.db) == NoticeRun(users_checked=1, emails_queued=1)
    first, second = queued(town.db)
    assert second.to_address == "casey@x.test"
    assert "1 new report is waiting" in second.body
    assert "new reports" not in second.body
    assert_private(town.db, second.body)

    # Delivered as .eml files: to the user, with the fixed subject.
    folder = tmp_path / "mail"
    summary = outbox.send_due(town.db, transport=EmlFolderTransport(folder))
    assert (summary.sent, summary.retried, summary.failed) == (2, 0, 0)
    files = sorted(folder.glob("*.eml"))
    assert [path.name for path in files] == [f"{first.id}-new_results.eml",
                                             f"{second.id}-new_results.eml"]
    for path, count in zip(files, ("3 new reports", "1 new report "), strict=True):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert parsed["To"] == "casey@x.test"
        assert parsed["Subject"] == SUBJECT
        text = parsed.get_content()
        assert count in text and f"{PORTAL}/reports" in text
        assert_private(town.db, text)
    assert {m.status for m in queued(town.db)} == {"sent"}


def test_a_user_with_notices_off_gets_nothing(town, fake_clock):
    fake_clock.advance(minutes=5)
    town.report()
    fake_clock.advance(minutes=5)

    assert send(town.db) == NoticeRun(users_checked=0, emails_queued=0)
    assert queued(town.db) == []
    assert events(town.db, "notices.queued") == []

    # Switched on and off again: still nothing.
    town.switch("casey", True)
    town.switch("casey", False)
    fake_clock.advance(minutes=5)
    town.report()
    assert send(town.db).emails_queued == 0
    assert queued(town.db) == []


def test_reports_delivered_before_switching_on_do_not_count(town, fake_clock):
    town.report()
    town.report()
    fake_clock.advance(hours=1)
    town.switch("casey", True)

    assert send(town.db) == NoticeRun(users_checked=1, emails_queued=0)

    fake_clock.advance(minutes=1)
    town.report()
    fake_clock.advance(minutes=1)
    assert send(town.db).emails_queued == 1
    message, = queued(town.db)
    assert "1 new report is waiting" in message.body


def test_opened_reports_do_not_count(town, fake_clock):
    town.switch("casey", True)
    fake_clock.advance(minutes=1)
    opened = [town.report(), town.report()]
    unopened = town.report()
    with town.db.transaction() as session:
        session.add_all(ReportRead(user_id=town.user["casey"], report_id=report_id,
                                   first_opened_at=fake_clock.now()) for report_id in opened)
        # Another user's opening does not clear Casey's.
        session.add(ReportRead(user_id=town.user["dana"], report_id=unopened,
                               first_opened_at=fake_clock.now()))
    fake_clock.advance(minutes=1)

    assert send(town.db).emails_queued == 1
    message, = queued(town.db)
    assert "1 new report is waiting" in message.body

    # All opened: nothing to say.
    fake_clock.advance(minutes=1)
    latest = town.report()
    with town.db.transaction() as session:
        session.add(ReportRead(user_id=town.user["casey"], report_id=latest,
                               first_opened_at=fake_clock.now()))
    fake_clock.advance(minutes=1)
    assert send(town.db).emails_queued == 0
    assert len(queued(town.db)) == 1


def test_a_deactivated_user_gets_nothing(town, fake_clock):
    town.switch("casey", True)
    town.switch("dana", True)
    fake_clock.advance(minutes=1)
    town.report()
    with town.db.transaction() as session:
        session.execute(update(User).where(User.id == town.user["casey"]).values(status="deactivated"))
    fake_clock.advance(minutes=1)

    assert send(town.db) == NoticeRun(users_checked=1, emails_queued=1)
    assert [m.to_address for m in queued(town.db)] == ["dana@x.test"]


def test_a_user_who_cannot_see_reports_gets_nothing_and_the_run_goes_on(town, fake_clock):
    town.switch("manny", True)   # a manager: dashboards only, no view_reports
    town.switch("casey", True)
    fake_clock.advance(minutes=1)
    town.report()
    fake_clock.advance(minutes=1)

    assert send(town.db) == NoticeRun(users_checked=2, emails_queued=1)
    assert [m.to_address for m in queued(town.db)] == ["casey@x.test"]


def test_switching_notices_is_audited_once_per_change(town, fake_clock):
    casey = load_principal(town.db, town.user["casey"])
    assert result_notices_enabled(town.db, casey) is False

    set_result_notices(town.db, casey, enabled=True)
    set_result_notices(town.db, casey, enabled=True)   # no change, no event
    fake_clock.advance(minutes=1)
    set_result_notices(town.db, casey, enabled=False)

    assert result_notices_enabled(town.db, casey) is False
    changed = events(town.db, "notices.changed")
    assert [(e.actor_user_id, e.actor_email, e.target_type, e.target_id, e.outcome, e.details,
             e.occurred_at) for e in changed] == [
        (casey.user_id, "casey@x.test", "user", str(casey.user_id), "success",
         {"new_results": True}, START),
        (casey.user_id, "casey@x.test", "user", str(casey.user_id), "success",
         {"new_results": False}, START + timedelta(minutes=1)),
    ]
    set_result_notices(town.db, casey, enabled=True)
    assert result_notices_enabled(town.db, casey) is True
    assert len(events(town.db, "notices.changed")) == 3


def test_a_report_is_announced_only_once_even_when_posted_during_a_run(town, fake_clock):
    town.switch("casey", True)
    run_started = fake_clock.now() + timedelta(minutes=10)
    fake_clock.advance(minutes=11)
    town.report()                      # posted after the run took its `now`, before Casey's turn

    assert send(town.db, now=run_started).emails_queued <= 1
    fake_clock.advance(hours=1)
    send(town.db)

    assert len(queued(town.db)) == 1
