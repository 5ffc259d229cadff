"""The email outbox: queued in the caller's transaction, delivered over a real SMTP server or as
.eml files, retried with backoff, given up after MAX_ATTEMPTS, and sent once even when two
senders run at once. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from commands import send_mail
from db.models import AuditEvent, OutboxMessage
from services import settings
from services.errors import InvalidInput
from services.mail import outbox
from services.settings import Settings
from tests.conftest import START

BODY = "Your results are ready.\nSign in at http://localhost:8501 to read them.\n.\nA line with a dot."
# What every email ends with: how to reach support and the HIPAA hotline (the defaults here).
FOOTER = ("\n\n--\nNeed help? ResultsDesk support: 1-800-555-0142 (Monday to Friday, 7 am to 7 pm "
          "Central time), support@resultsdesk.example.\nReceived information in error? Call the "
          "HIPAA hotline: 1-800-555-0199.\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collector:
    """aiosmtpd handler that keeps every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def mail_dir(tmp_path):
    """Where the .eml transport writes (tmp_path itself also holds the SQLite file)."""
    return tmp_path / "mail"


def _enqueue(db, n=1, *, to="worker@x.test", subject="Your results are ready", kind="results_ready",
             body=BODY, now=None) -> list[int]:
    with db.transaction() as session:
        return [outbox.enqueue(session, kind=kind, to_address=to, subject=f"{subject} {i}" if n > 1 else subject,
                               body=body, now=now).id for i in range(n)]


def _rows(db) -> list[OutboxMessage]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _audit(db) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.sent")
                                    .order_by(AuditEvent.id)))


class CountingEml(outbox.EmlFolderTransport):
    """The folder transport, counting deliveries per message id (shared across threads)."""

    def __init__(self, folder, counts, lock, pause=0.0):
        super().__init__(folder)
        self.counts, self.lock, self.pause = counts, lock, pause

    def send(self, message):
        with self.lock:
            self.counts[message.id] = self.counts.get(message.id, 0) + 1
        time.sleep(self.pause)  # widen the window in which a second sender could take it too
        super().send(message)


class Crash(BaseException):
    """Stands in for the sender process dying mid-delivery."""


class CrashingTransport:
    def send(self, message):
        raise Crash()

    def close(self):
        pass


# --- delivery ---------------------------------------------------------------------------------

def test_enqueue_then_send_over_a_real_smtp_server(db, fake_clock, smtp_server, monkeypatch):
    monkeypatch.delenv(outbox.MAIL_FROM_VARIABLE, raising=False)
    controller, handler = smtp_server
    (message_id,) = _enqueue(db)
    row = _rows(db)[0]
    assert (row.status, row.attempts, row.next_attempt_at, row.created_at) == ("pending", 0, START, START)

    fake_clock.advance(seconds=5)
    transport = outbox.SmtpTransport(f"smtp://127.0.0.1:{controller.port}", timeout=5)
    summary = outbox.send_due(db, transport=transport)

    assert summary == outbox.SendSummary(sent=1, retried=0, failed=0)
    (envelope,) = handler.envelopes
    assert envelope.rcpt_tos == ["worker@x.test"]
    assert envelope.mail_from == "no-reply@resultsdesk.invalid"
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["To"] == "worker@x.test"
    assert received["From"] == outbox.DEFAULT_MAIL_FROM
    assert received["Subject"] == "Your results are ready"
    assert received["Message-ID"].startswith(f"<outbox.{message_id}.")
    assert received.get_content().replace("\r\n", "\n") == BODY + FOOTER

    row = _rows(db)[0]
    assert (row.status, row.sent_at, row.attempts, row.last_error) == ("sent", START + timedelta(seconds=5), 1, None)
    (event,) = _audit(db)
    assert (event.outcome, event.details) == ("success", {"sent": 1, "retried": 0, "failed": 0})
    assert event.actor_user_id is None and event.target_id is None

    # Nothing is due any more: no delivery, no audit event.
    assert outbox.send_due(db, transport=transport) == outbox.SendSummary()
    assert len(handler.envelopes) == 1 and len(_audit(db)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_uses_the_percent_decoded_credentials_from_the_url(db, fake_clock, monkeypatch):
    monkeypatch.setenv(outbox.MAIL_FROM_VARIABLE, "Clinic Results <results@clinic.test>")
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"mailer", b"p@ss:w/rd"))

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        _enqueue(db, 2)
        transport = outbox.SmtpTransport(f"smtp://mailer:p%40ss%3Aw%2Frd@127.0.0.1:{controller.port}", timeout=5)
        assert "p@ss" not in repr(transport) and "p%40ss" not in repr(transport)
        assert outbox.send_due(db, transport=transport).sent == 2
    finally:
        controller.stop()
    assert logins == [(b"mailer", b"p@ss:w/rd")]  # one connection for the whole run
    assert [e.mail_from for e in handler.envelopes] == ["results@clinic.test"] * 2
    received = email.message_from_bytes(handler.envelopes[0].original_content, policy=email.policy.default)
    assert received["From"] == "Clinic Results <results@clinic.test>"
    assert received["Message-ID"].endswith("@clinic.test>")


def test_eml_folder_transport_writes_a_parseable_message(db, fake_clock, mail_dir):
    folder = mail_dir
    (message_id,) = _enqueue(db, kind="password_reset", subject="Résultats prêts")
    summary = outbox.send_due(db, transport=outbox.EmlFolderTransport(folder))

    assert summary == outbox.SendSummary(sent=1)
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{message_id}-password_reset.eml"]  # no temporary file left behind
    path = folder / files[0]
    assert path.stat().st_mode & 0o077 == 0
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (parsed["To"], parsed["Subject"]) == ("worker@x.test", "Résultats prêts")
    assert parsed.get_content() == BODY + FOOTER
    assert _rows(db)[0].status == "sent"


# --- failures and retries ---------------------------------------------------------------------

def test_a_failing_transport_retries_with_backoff_then_gives_up(db, fake_clock):
    closed = outbox.SmtpTransport(f"smtp://127.0.0.1:{_free_port()}", timeout=5)  # nothing listens there
    _enqueue(db, body="secret body text")

    assert outbox.send_due(db, transport=closed) == outbox.SendSummary(retried=1)
    row = _rows(db)[0]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, START + outbox.BACKOFF[0])
    assert row.last_error and "secret body" not in row.last_error and len(row.last_error) <= 200
    assert "\n" not in row.last_error and "127.0.0.1" in row.last_error

    # Not due before the backoff ends: nothing tried, nothing audited.
    fake_clock.advance(seconds=30)
    assert outbox.send_due(db, transport=closed) == outbox.SendSummary()
    assert _rows(db)[0].attempts == 1

    for attempt in range(2, outbox.MAX_ATTEMPTS):
        fake_clock.current = _rows(db)[0].next_attempt_at
        assert outbox.send_due(db, transport=closed) == outbox.SendSummary(retried=1)
        row = _rows(db)[0]
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at == fake_clock.current + outbox.BACKOFF[attempt - 1]

    fake_clock.current = _rows(db)[0].next_attempt_at
    assert outbox.send_due(db, transport=closed) == outbox.SendSummary(failed=1)
    row = _rows(db)[0]
    assert (row.status, row.attempts, row.sent_at) == ("failed", outbox.MAX_ATTEMPTS, None)

    fake_clock.advance(days=1)
    assert outbox.send_due(db, transport=closed) == outbox.SendSummary()  # failed stays failed
    events = _audit(db)
    assert len(events) == outbox.MAX_ATTEMPTS
    assert {e.outcome for e in events} == {"failure"}
    assert events[-1].details == {"sent": 0, "retried": 0, "failed": 1}
    assert all(set(e.details) == {"sent", "retried", "failed"} for e in events)


def test_an_unreachable_server_stops_the_run_after_one_attempt(db, fake_clock):
    closed = outbox.SmtpTransport(f"smtp://127.0.0.1:{_free_port()}", timeout=5)
    _enqueue(db, 3)
    assert outbox.send_due(db, transport=closed) == outbox.SendSummary(retried=1)
    assert [r.attempts for r in _rows(db)] == [1, 0, 0]


def test_a_sender_that_dies_mid_delivery_leaves_the_message_to_be_tried_again(db, fake_clock, mail_dir):
    _enqueue(db)
    with pytest.raises(Crash):
        outbox.send_due(db, transport=CrashingTransport())
    row = _rows(db)[0]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, START + outbox.CLAIM_LEASE)

    eml = outbox.EmlFolderTransport(mail_dir)
    fake_clock.advance(minutes=1)
    assert outbox.send_due(db, transport=eml) == outbox.SendSummary()  # still claimed
    fake_clock.current = START + outbox.CLAIM_LEASE
    assert outbox.send_due(db, transport=eml) == outbox.SendSummary(sent=1)
    assert (_rows(db)[0].status, _rows(db)[0].attempts) == ("sent", 2)


def test_a_last_attempt_that_never_reported_back_is_marked_failed(db, fake_clock, mail_dir):
    _enqueue(db)
    with db.transaction() as session:
        session.scalars(select(OutboxMessage)).one().attempts = outbox.MAX_ATTEMPTS - 1
    with pytest.raises(Crash):
        outbox.send_due(db, transport=CrashingTransport())
    fake_clock.current = START + outbox.CLAIM_LEASE
    assert outbox.send_due(db, transport=outbox.EmlFolderTransport(mail_dir)) == outbox.SendSummary(failed=1)
    row = _rows(db)[0]
    assert (row.status, row.last_error) == ("failed", outbox.ABANDONED_ERROR)
    assert not mail_dir.exists()


# --- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("to_address, subject", [
    ("victim@x.test\r\nBcc: everyone@x.test", "Results"),
    ("victim@x.test\nBcc: everyone@x.test", "Results"),
    ("victim@x.test", "Results\r\nBcc: everyone@x.test"),
    ("victim@x.test", "Results\nX-Injected: 1"),
    ("victim@x.test", "Results\rX-Injected: 1"),
    ("victim@x.test", "Results\u2028X-Injected: 1"),
    ("victim@x.test", "Results\x00"),
    ("victim@x.test, everyone@x.test", "Results"),
    ("Victim <victim@x.test>", "Results"),
    ("no-at-sign.x.test", "Results"),
    ("two@at@x.test", "Results"),
    ("@x.test", "Results"),
    ("victim@", "Results"),
    ("victim@x.test", ""),
    ("victim@x.test", "x" * 201),
])
def test_header_injection_and_bad_addresses_are_refused_and_nothing_is_queued(db, fake_clock, mail_dir,
                                                                              to_address, subject):
    with pytest.raises(InvalidInput):
        with db.transaction() as session:
            outbox.enqueue(session, kind="results_ready", to_address=to_address, subject=subject, body=BODY)
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert outbox.send_due(db, transport=outbox.EmlFolderTransport(mail_dir)) == outbox.SendSummary()
    assert not mail_dir.exists() and _audit(db) == []


def test_a_refused_message_leaves_the_callers_other_messages_alone(db, fake_clock):
    with db.transaction() as session:
        outbox.enqueue(session, kind="results_ready", to_address="a@x.test", subject="ok", body="b")
        with pytest.raises(InvalidInput):
            outbox.enqueue(session, kind="results_ready", to_address="b@x.test", subject="a\nb", body="b")
    assert [r.to_address for r in _rows(db)] == ["a@x.test"]


def test_a_mail_from_with_a_line_break_stops_the_run_before_any_message(db, fake_clock, mail_dir, monkeypatch):
    _enqueue(db)
    monkeypatch.setenv(outbox.MAIL_FROM_VARIABLE, "x@y.test\r\nBcc: all@y.test")
    with pytest.raises(ValueError):
        outbox.send_due(db, transport=outbox.EmlFolderTransport(mail_dir))
    assert not mail_dir.exists()
    assert (_rows(db)[0].status, _rows(db)[0].attempts) == ("pending", 0)


# --- two senders at once ----------------------------------------------------------------------

def test_two_senders_at_once_deliver_each_message_exactly_once(db, fake_clock, mail_dir):
    ids = _enqueue(db, 30)
    counts: dict[int, int] = {}
    lock = threading.Lock()
    senders = 2
    barrier = threading.Barrier(senders)
    results: list[object] = [None] * senders

    def run(index):
        transport = CountingEml(mail_dir, counts, lock, pause=0.005)
        barrier.wait(timeout=30)
        try:
            results[index] = outbox.send_due(db, transport=transport, now=START)
        except Exception as error:  # asserted on below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sender hung"
    assert all(isinstance(r, outbox.SendSummary) for r in results), results

    assert counts == {message_id: 1 for message_id in ids}
    assert sum(r.sent for r in results) == len(ids)
    assert {r.status for r in _rows(db)} == {"sent"}
    assert sorted(p.name for p in mail_dir.iterdir()) == sorted(f"{i}-results_ready.eml" for i in ids)
    assert sum(e.details["sent"] for e in _audit(db)) == len(ids)


# --- configuration and command ----------------------------------------------------------------

@pytest.mark.parametrize("url, scheme, host, port, user, security", [
    ("smtp://mail.example.org", "smtp", "mail.example.org", 25, None, "none"),
    ("smtp://u:p@mail.example.org:2525", "smtp", "mail.example.org", 2525, "u", "none"),
    ("smtp+starttls://u%40x:p@mail.example.org", "smtp+starttls", "mail.example.org", 587, "u@x", "starttls"),
    ("smtps://u:p@mail.example.org", "smtps", "mail.example.org", 465, "u", "tls"),
])
def test_smtp_urls_are_understood(url, scheme, host, port, user, security):
    transport = outbox.SmtpTransport(url)
    assert (transport.scheme, transport.host, transport.port, transport.username, transport.security) == \
        (scheme, host, port, user, security)
    assert ":p@" not in repr(transport)


@pytest.mark.parametrize("url", ["http://mail.example.org", "mail.example.org", "smtp://", "smtp://h:notaport"])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(ValueError):
        outbox.SmtpTransport(url)


def _settings(tmp_path, smtp_url) -> Settings:
    return dataclasses.replace(settings.current(), smtp_url=smtp_url, outbox_dir=tmp_path / "mail")


def test_transport_from_settings_prefers_smtp_when_configured(tmp_path):
    assert isinstance(outbox.transport_from_settings(_settings(tmp_path, "smtp://h:25")), outbox.SmtpTransport)
    folder = outbox.transport_from_settings(_settings(tmp_path, ""))
    assert isinstance(folder, outbox.EmlFolderTransport) and folder.folder == tmp_path / "mail"


def test_the_command_sends_what_is_due_and_prints_one_line(db, fake_clock, tmp_path, monkeypatch, capsys):
    (message_id,) = _enqueue(db)
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SMTP_URL", "")
    monkeypatch.setenv("RESULTSDESK_OUTBOX_DIR", str(tmp_path / "mail"))
    assert send_mail.main() == 0
    output = capsys.readouterr().out.strip().splitlines()
    assert len(output) == 1 and "1 sent, 0 to retry, 0 failed" in output[0]
    assert (tmp_path / "mail" / f"{message_id}-results_ready.eml").exists()
    assert _rows(db)[0].status == "sent"
