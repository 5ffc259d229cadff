"""The email outbox: messages are queued in the transaction of the change that causes them, and
`python -m commands.send_mail` (run from cron or a timer) delivers what is due.

Delivery happens outside any database transaction. Each message is claimed first by a
conditional UPDATE that pushes its `next_attempt_at` forward by a lease and counts the attempt,
so two senders running at once never both get it; the claim is then settled as sent or as a
failure (retry later, or give up after MAX_ATTEMPTS). A sender that dies mid-delivery leaves
the claim to expire, and the message is tried again after CLAIM_LEASE: delivery is at least
once, never twice from two live senders.

The outbox table keeps addresses, subjects and bodies; the audit trail gets counts only.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import OutboxMessage
from services import audit, clock
from services.errors import InvalidInput
from services.mail import addresses, support_contact
from services.statuses import MessageStatus
from services.transaction import transaction

DEFAULT_MAIL_FROM = "ResultsDesk <no-reply@resultsdesk.invalid>"
MAIL_FROM_VARIABLE = "RESULTSDESK_MAIL_FROM"

# A failed attempt n (1-based) is retried BACKOFF[n - 1] later; attempt MAX_ATTEMPTS is the last.
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 240))
MAX_ATTEMPTS = len(BACKOFF) + 1
# How long a claimed message stays with its sender; longer than one SMTP delivery can take
# (every SMTP step has SMTP_TIMEOUT_SECONDS).
CLAIM_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 30.0
ERROR_TEXT_LIMIT = 200
ABANDONED_ERROR = "No result from the last attempt (the sender stopped during delivery)."

_MAX_SUBJECT = 200   # outbox.subject
_MAX_KIND = 40       # outbox.kind


# --- queueing -------------------------------------------------------------------------------

def _check_address(address: str) -> None:
    if not addresses.is_header_safe(address):
        raise InvalidInput("The email address is not valid.")


def _check_subject(subject: str) -> None:
    if not isinstance(subject, str) or addresses.has_line_break_or_control(subject):
        raise InvalidInput("The email subject may not contain line breaks or control characters.")
    if not subject.strip() or len(subject) > _MAX_SUBJECT:
        raise InvalidInput(f"The email subject must be 1 to {_MAX_SUBJECT} characters.")


def enqueue(session: Session, *, kind: str, to_address: str, subject: str, body: str,
            now: datetime | None = None) -> OutboxMessage:
    """Queue one email inside the caller's transaction; it is sent once that transaction commits.

    The portal's support contact details are added at its foot (services/mail/support_contact.py).

    Refuses (InvalidInput) an address that is not one plain address, and any line break in the
    address or subject (header injection); nothing is added then.
    """
    _check_address(to_address)
    _check_subject(subject)
    if not kind or len(kind) > _MAX_KIND or not re.fullmatch(r"[A-Za-z0-9_.-]+", kind):
        raise InvalidInput("The email kind is not valid.")
    if not isinstance(body, str):
        raise InvalidInput("The email body must be text.")
    # Every email ends with how to reach support and the HIPAA hotline.
    body = body.rstrip("\n") + "\n\n--\n" + support_contact.email_footer(session)
    now = now or clock.now()
    message = OutboxMessage(kind=kind, to_address=to_address, subject=subject, body=body,
                            created_at=now, status=MessageStatus.PENDING, attempts=0, next_attempt_at=now)
    session.add(message)
    session.flush()
    return message


# --- building and transporting --------------------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    """One claimed message as the transports see it (a plain copy, usable outside a session)."""

    id: int
    kind: str
    to_address: str
    subject: str
    body: str
    created_at: datetime


def mail_from() -> str:
    """The From header: RESULTSDESK_MAIL_FROM (read now) or DEFAULT_MAIL_FROM."""
    return os.environ.get(MAIL_FROM_VARIABLE) or DEFAULT_MAIL_FROM


def check_mail_from(sender: str) -> str:
    address = parseaddr(sender)[1]
    if addresses.has_line_break_or_control(sender) or address.count("@") != 1:
        raise ValueError(f"{MAIL_FROM_VARIABLE} must be one address, like 'ResultsDesk <no-reply@example.org>'")
    return address


def build_email(message: Outgoing, *, sender: str | None = None) -> EmailMessage:
    """The message as sent: From, To, Subject, Date, a Message-ID stable per outbox row, text body."""
    sender = sender or mail_from()
    domain = check_mail_from(sender).rpartition("@")[2]
    email = EmailMessage()  # the default policy refuses CR/LF in header values as well
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # Stable, so a repeat after a sender crash can be recognised as the same message.
    email["Message-ID"] = f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    email.set_content(message.body)
    return email


class Transport(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver one message or raise; raise TransportDown when no further message can go either."""

    def close(self) -> None:
        """Release connections at the end of a run."""


class TransportDown(Exception):
    """The transport cannot deliver anything right now (server unreachable, login refused)."""


class SmtpTransport:
    """Delivers through an SMTP server given as a URL (SMTP_URL).

    smtp://user:pass@host:port             plain SMTP (port 25 by default)
    smtp+starttls://user:pass@host:port    upgraded with STARTTLS (port 587 by default)
    smtps://user:pass@host:port            implicit TLS (port 465 by default)

    User and password are percent-decoded. TLS verifies the server's certificate. One
    connection is reused for a run; a transport is for one sender (thread) at a time.
    """

    DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}

    def __init__(self, url: str, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in self.DEFAULT_PORTS:
            raise ValueError("SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP_URL has an invalid port") from None
        if not parts.hostname:
            raise ValueError("SMTP_URL has no host")
        self.scheme = scheme
        self.host = parts.hostname
        self.port = port or self.DEFAULT_PORTS[scheme]
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password is not None else None
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    @property
    def security(self) -> str:
        return {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[self.scheme]

    def __repr__(self) -> str:  # never shows the password
        user = f"{self.username}@" if self.username else ""
        return f"SmtpTransport({self.scheme}://{user}{self.host}:{self.port})"

    def _connect(self) -> smtplib.SMTP:
        smtp = None
        try:
            if self.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password or "")
        except (OSError, smtplib.SMTPException) as error:
            if smtp is not None:
                smtp.close()
            raise TransportDown(f"SMTP server {self.host}:{self.port}: {_error_text(error)}") from error
        return smtp

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                self._smtp.noop()
            except (OSError, smtplib.SMTPException):
                self._drop()
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def send(self, message: Outgoing) -> None:
        email = build_email(message)
        smtp = self._connection()
        try:
            # Explicit recipient: nothing in the headers can add one.
            smtp.send_message(email, from_addr=parseaddr(email["From"])[1], to_addrs=[message.to_address])
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


class EmlFolderTransport:
    """Writes each message to `<folder>/<id>-<kind>.eml` (temporary name, then rename), for
    deployments without SMTP and for looking at what would have been sent. Files are 0600."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"EmlFolderTransport({str(self.folder)!r})"

    def path_for(self, message: Outgoing) -> Path:
        kind = re.sub(r"[^A-Za-z0-9_.-]", "_", message.kind).lstrip(".") or "message"
        return self.folder / f"{message.id}-{kind}.eml"

    def send(self, message: Outgoing) -> None:
        data = bytes(build_email(message))
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".outbox-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path_for(message))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass


def transport_from_settings(settings) -> SmtpTransport | EmlFolderTransport:
    """SMTP when SMTP_URL is set, otherwise .eml files in RESULTSDESK_OUTBOX_DIR."""
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url)
    return EmlFolderTransport(settings.outbox_dir)


# --- sending --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


def _error_text(error: BaseException) -> str:
    """A short, single-line description of a delivery error: no message content, no recipients."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in error.recipients.values()})
        text = f"recipient refused ({', '.join(codes)})"
    elif isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        text = f"{type(error).__name__}: {error.smtp_code} {reply}"
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = " ".join("".join(" " if addresses.has_line_break_or_control(ch) else ch for ch in text).split())
    return text[:ERROR_TEXT_LIMIT]


def _due(db: Database, now: datetime, limit: int) -> list[int]:
    with transaction(db, write=False) as session:
        return list(session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)))


def _claim(db: Database, message_id: int, now: datetime) -> tuple[Outgoing, int, datetime] | str | None:
    """Take the message for this sender: (message, attempt number, lease end), or "abandoned"
    when its last allowed attempt never reported back (marked failed now), or None when another
    sender has it or it is no longer due."""
    lease_until = now + CLAIM_LEASE
    with transaction(db) as session:
        row = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.PENDING,
                   OutboxMessage.next_attempt_at <= now, OutboxMessage.attempts < MAX_ATTEMPTS)
            .values(next_attempt_at=lease_until, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.to_address,
                       OutboxMessage.subject, OutboxMessage.body, OutboxMessage.created_at,
                       OutboxMessage.attempts)
            .execution_options(synchronize_session=False)).one_or_none()
        if row is not None:
            return Outgoing(*row[:6]), row.attempts, lease_until
        abandoned = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.PENDING,
                   OutboxMessage.next_attempt_at <= now, OutboxMessage.attempts >= MAX_ATTEMPTS)
            .values(status=MessageStatus.FAILED, last_error=ABANDONED_ERROR)
            .execution_options(synchronize_session=False)).rowcount
        return "abandoned" if abandoned else None


def _mark_sent(db: Database, message_id: int, now: datetime) -> None:
    with transaction(db) as session:
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.PENDING)
                        .values(status=MessageStatus.SENT, sent_at=now)
                        .execution_options(synchronize_session=False))


def _mark_failure(db: Database, message_id: int, *, attempt: int, lease_until: datetime, now: datetime,
                  error_text: str, permanent: bool) -> bool:
    """Record a failed attempt; True when the message is given up (status 'failed')."""
    give_up = permanent or attempt >= MAX_ATTEMPTS
    values: dict = {"last_error": error_text}
    if give_up:
        values["status"] = MessageStatus.FAILED
    else:
        values["next_attempt_at"] = now + BACKOFF[min(attempt, len(BACKOFF)) - 1]
    with transaction(db) as session:
        # Only while the claim is still this sender's (an expired lease may have passed it on).
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.PENDING,
                               OutboxMessage.next_attempt_at == lease_until)
                        .values(**values)
                        .execution_options(synchronize_session=False))
    return give_up


class _Permanent(Exception):
    """The stored row can never become an email: no retry."""


def send_due(db: Database, *, transport: Transport, now: datetime | None = None,
             limit: int = 100) -> SendSummary:
    """Deliver up to `limit` pending messages that are due, oldest first.

    Safe to run from several processes at once. A failure is retried after BACKOFF; the
    attempt MAX_ATTEMPTS is the last. When the transport reports itself down, the run stops
    after recording that attempt. One audit event ("outbox.sent", counts only) per run in
    which anything was sent, retried or failed.
    """
    def current() -> datetime:
        return now or clock.now()

    sender = mail_from()
    check_mail_from(sender)  # a configuration error stops the run before any message is touched
    sent = retried = failed = 0
    try:
        for message_id in _due(db, current(), limit):
            claimed = _claim(db, message_id, current())
            if claimed is None:
                continue
            if claimed == "abandoned":
                failed += 1
                continue
            message, attempt, lease_until = claimed
            down = False
            try:
                try:
                    build_email(message, sender=sender)
                except ValueError as error:
                    raise _Permanent(error) from error
                transport.send(message)
            except Exception as error:
                permanent = isinstance(error, _Permanent)
                cause = error.__cause__ if permanent else error
                down = isinstance(error, TransportDown)
                if _mark_failure(db, message_id, attempt=attempt, lease_until=lease_until, now=current(),
                                 error_text=_error_text(cause), permanent=permanent):
                    failed += 1
                else:
                    retried += 1
            else:
                _mark_sent(db, message_id, current())
                sent += 1
            if down:
                break
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()
    summary = SendSummary(sent=sent, retried=retried, failed=failed)
    if summary.total:
        with transaction(db) as session:
            audit.record(session, action="outbox.sent",
                         outcome="success" if not (retried or failed) else "failure",
                         details={"sent": sent, "retried": retried, "failed": failed}, now=current())
    return summary


# --- command --------------------------------------------------------------------------------
