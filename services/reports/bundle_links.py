"""Downloading many reports at once through a single-use link the portal's own route streams.

`create` checks the reports (scope of every id, the limits, a staff member's purpose) and keeps
a link for five minutes; only the SHA-256 of its token is stored. `open_stream` takes the link
once (one conditional UPDATE, so two tabs or two replicas cannot both have it), and only for
the person who made it, signed in now. The bundle is then packed as it is sent: before every
batch of reports the person's session and the reports' scope are read again, so a report
routed away or withdrawn meanwhile is left out and named in not-included.txt inside the ZIP.
Each report is audited as downloaded, marked read and counted as accessed only once its bytes
have been handed to the server, so a download cut short records exactly what went out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from db.blob_store import BlobStore, FileUnreadable
from db.engine import Database
from db.models import DownloadLink, Report, ReportRead
from services import audit, clock
from services.errors import DomainError, PermissionDenied, SessionEnded
from services.identity import sessions, tokens
from services.insight import portal_activity
from services.policy import Action
from services.principals import Principal
from services.reports import bundles, report_files, report_types, scope
from services.reports.access import Purpose, load_many, mark_read, pdf_file_name, purpose_details
from services.transaction import transaction

LINK_LIFETIME = timedelta(minutes=5)
BATCH_SIZE = 50
NOT_INCLUDED = "not-included.txt"
NOT_INCLUDED_TITLE = "Not included"
# Expired links are removed a day after they stop working (the audit trail keeps the story).
_KEPT_AFTER_EXPIRY = timedelta(days=1)
_LEFT_OUT = "no longer in your view"
_UNREADABLE = "its file could not be read; ask support to look at it"


class LinkRefused(DomainError):
    """The link does not open a download now; `gone` says it was used or has expired."""

    GONE = ("This download link was already used or has expired. "
            "Go back to Reports and download again.")
    NOT_YOURS = ("This download link works only for the person who made it, while signed in. "
                 "Sign in, go back to Reports and download again.")

    def __init__(self, *, gone: bool) -> None:
        self.gone = gone
        super().__init__(self.GONE if gone else self.NOT_YOURS)


@dataclass(frozen=True)
class Selection:
    """The chosen reports in the person's view, their size, and how many are not in view."""

    report_count: int
    total_bytes: int
    out_of_view: int = 0


@dataclass(frozen=True)
class StreamedBundle:
    file_name: str
    mime_type: str
    chunks: Iterator[bytes]


def measure(db: Database, principal: Principal, report_ids: list[int]) -> Selection:
    """How many of the chosen reports are in the person's view and what they come to.

    Only reports in view are counted and sized; the rest are only counted, never described. The
    screen asks this on every run, so it refuses nothing (a refusal is audited and counts
    towards ending a probing session); making the link is what refuses."""
    wanted = list(dict.fromkeys(report_ids))
    with transaction(db, write=False) as session:
        sizes = session.scalars(select(Report.file_size).where(
            Report.id.in_(wanted), scope.visible(session, principal))).all()
    return Selection(len(sizes), sum(sizes), len(wanted) - len(sizes))


def create(db: Database, principal: Principal, report_ids: list[int], *, bundle_format: str,
           staff_purpose: Purpose | None = None) -> str:
    """Check the reports and the limits, keep a five-minute single-use link; returns its token."""
    bundles.check_format(bundle_format)
    now = clock.now()
    token, hashed = tokens.new_secret()
    with transaction(db) as session:
        reports = load_many(session, principal, report_ids)
        details = purpose_details(principal, staff_purpose)
        bundles.check_size(len(reports), sum(report.file_size for report in reports),
                           bundle_format)
        session.add(DownloadLink(
            token_hash=hashed, user_id=principal.user_id,
            report_ids=json.dumps([report.id for report in reports]), bundle_format=bundle_format,
            details=json.dumps(details), created_at=now, expires_at=now + LINK_LIFETIME))
        audit.record(session, action="bundle.link_created", actor_user_id=principal.user_id,
                     actor_email=principal.email,
                     details={**details, "bundle": bundle_format, "bundle_size": len(reports)},
                     now=now)
    return token


def open_stream(db: Database, token: str, session_token: str | None,
                blob_store: BlobStore) -> StreamedBundle:
    """Take the link (once, for its own person, signed in) and start packing its bundle."""
    hashed = tokens.digest(token)
    with transaction(db, write=False) as session:
        link = session.get(DownloadLink, hashed)
        owner = None if link is None else (link.user_id, link.created_at)
    if owner is None:
        raise LinkRefused(gone=True)
    try:
        principal = sessions.resume(db, session_token or "")
    except SessionEnded:
        _refused(db, owner[0], None, "session_ended")
        raise LinkRefused(gone=False) from None
    if principal.user_id != owner[0]:
        _refused(db, owner[0], principal, "other_user")
        raise LinkRefused(gone=False)
    now = clock.now()
    with transaction(db) as session:
        # The person must still hold the reports action (a refusal is audited here).
        principal.require(Action.VIEW_REPORTS)
        taken = session.execute(
            update(DownloadLink)
            .where(DownloadLink.token_hash == hashed, DownloadLink.user_id == principal.user_id,
                   DownloadLink.used_at.is_(None), DownloadLink.expires_at > now)
            .values(used_at=now)).rowcount
        link = session.get(DownloadLink, hashed) if taken else None
        wanted = None if link is None else (json.loads(link.report_ids), link.bundle_format,
                                            json.loads(link.details or "{}"))
    if wanted is None:
        _refused(db, owner[0], principal, "used_or_expired")
        raise LinkRefused(gone=True)
    report_ids, bundle_format, details = wanted
    mime_type = bundles.FORMATS[bundle_format][0]
    name = bundles.file_name(bundle_format, len(report_ids), owner[1].astimezone(principal.zone))
    packing = _Packing(db, principal, session_token or "", blob_store, report_ids,
                       bundle_format, details)
    pieces = packing.zip() if bundle_format == "zip" else packing.merged_pdf()
    return StreamedBundle(name, mime_type, _Pieces(packing, pieces))


def saved_as(db: Database, principal: Principal, token: str) -> str:
    """The file name the person's browser will save their link's bundle under."""
    with transaction(db, write=False) as session:
        link = session.get(DownloadLink, tokens.digest(token))
        if link is None or link.user_id != principal.user_id:
            raise LinkRefused(gone=True)
        count = len(json.loads(link.report_ids))
        return bundles.file_name(link.bundle_format, count, link.created_at.astimezone(principal.zone))


def wait_until_sent(db: Database, principal: Principal, token: str, *, seconds: float) -> None:
    """Wait a little for a link just followed to be taken and its reports sent, so the screen
    drawn next already shows them opened (a small bundle takes milliseconds; a big one, longer
    than anyone waits for a screen, so this gives up after `seconds`)."""
    hashed = tokens.digest(token)
    deadline = time.monotonic() + seconds
    while True:
        with transaction(db, write=False) as session:
            link = session.get(DownloadLink, hashed)
            if link is None or link.user_id != principal.user_id:
                return
            wanted = json.loads(link.report_ids)
            if link.used_at is not None and session.scalar(
                    select(func.count()).select_from(ReportRead).where(
                        ReportRead.user_id == principal.user_id,
                        ReportRead.report_id.in_(wanted))) >= len(wanted):
                return
        if time.monotonic() >= deadline:
            return
        time.sleep(0.05)


def sweep_expired(db: Database) -> int:
    """Remove links that stopped working more than a day ago; safe beside another copy."""
    with transaction(db) as session:
        return session.execute(delete(DownloadLink).where(
            DownloadLink.expires_at < clock.now() - _KEPT_AFTER_EXPIRY)).rowcount


def _refused(db: Database, owner_id: int, principal: Principal | None, reason: str) -> None:
    with transaction(db) as session:
        audit.record(session, action="bundle.link_refused", outcome="denied",
                     actor_user_id=principal.user_id if principal else None,
                     actor_email=principal.email if principal else None,
                     target_type="user", target_id=owner_id, details={"reason": reason})


class _Pieces:
    """The bundle's pieces; closed before the first one (the browser gone at once), the link is
    spent all the same, so the end is still recorded."""

    def __init__(self, packing: _Packing, pieces: Iterator[bytes]) -> None:
        self._packing, self._pieces, self._started = packing, pieces, False

    def __iter__(self) -> _Pieces:
        return self

    def __next__(self) -> bytes:
        self._started = True
        return next(self._pieces)

    def close(self) -> None:
        if not self._started:
            self._started = True
            self._packing._record_end("bundle.interrupted", "download_closed")
        self._pieces.close()


class _Packing:
    """One bundle being packed and sent, batch by batch, with what went out recorded."""

    def __init__(self, db: Database, principal: Principal, session_token: str,
                 blob_store: BlobStore, report_ids: list[int], bundle_format: str,
                 details: dict) -> None:
        self.db, self.principal, self.session_token = db, principal, session_token
        self.blob_store, self.report_ids, self.bundle_format = blob_store, report_ids, bundle_format
        self.download_details = {**details, "bundle": bundle_format, "bundle_size": len(report_ids)}
        self.sent: list[int] = []
        self.left_out: list[tuple[int, str]] = []

    # --- the ZIP -----------------------------------------------------------------------------

    def zip(self) -> Iterator[bytes]:
        archive = bundles.ZipStream(clock.now().astimezone(self.principal.zone))
        handed_out = 0
        unrecorded: list[tuple[int, int]] = []  # (report id, where its bytes end in the archive)
        try:
            for batch in self._batches():
                for entry in self._in_view(batch):
                    try:
                        pieces = bundles.pieces_of(self.blob_store, entry.sha256)
                    except (FileUnreadable, FileNotFoundError) as error:
                        self._unreadable(entry.report_id, error)
                        continue
                    for chunk in archive.add(entry.file_name, pieces):
                        handed_out += len(chunk)  # counted before the yield it may stop at
                        yield chunk
                    unrecorded.append((entry.report_id, archive.written))
                for chunk in archive.flush():
                    handed_out += len(chunk)
                    yield chunk
                # Resumed: the server took every byte of this batch.
                self._record_sent([report_id for report_id, _ in unrecorded])
                unrecorded = []
            if self.left_out:
                for chunk in archive.add_text(NOT_INCLUDED, self._not_included_text()):
                    yield chunk
            for chunk in archive.close():
                yield chunk
        except BaseException as stopped:
            # Reports whose last byte the server already took count as sent, even mid-batch.
            self._record_sent([report_id for report_id, end in unrecorded if end <= handed_out])
            self._record_end("bundle.interrupted", _why(stopped))
            raise
        self._record_end("bundle.completed", None)

    # --- the merged PDF ----------------------------------------------------------------------

    def merged_pdf(self) -> Iterator[bytes]:
        merged = bundles.MergedPdf()
        included: list[int] = []
        try:
            for batch in self._batches():
                for entry in self._in_view(batch):
                    try:
                        merged.add(entry, self.blob_store)
                    except (FileUnreadable, FileNotFoundError) as error:
                        self._unreadable(entry.report_id, error)
                        continue
                    included.append(entry.report_id)
            if self.left_out:
                merged.add_page(NOT_INCLUDED_TITLE, self._not_included_text())
            yield from merged.pieces()
        except BaseException as stopped:
            # A PDF cut short has no cross-reference table at its end: nothing counts as sent.
            self._record_end("bundle.interrupted", _why(stopped))
            raise
        self._record_sent(included)
        self._record_end("bundle.completed", None)

    # --- shared ------------------------------------------------------------------------------

    def _unreadable(self, report_id: int, error: Exception) -> None:
        """Leave out a report whose file is gone or fails its check; a failed check is audited."""
        self.left_out.append((report_id, _UNREADABLE))
        if isinstance(error, FileUnreadable):
            report_files.refused(self.db, error, report_id=report_id,
                                 actor_user_id=self.principal.user_id,
                                 actor_email=self.principal.email)

    def _batches(self) -> Iterator[list[int]]:
        for start in range(0, len(self.report_ids), BATCH_SIZE):
            yield self.report_ids[start:start + BATCH_SIZE]

    def _in_view(self, batch: list[int]) -> list[bundles.Entry]:
        """The batch's reports still in the person's view, read afresh; the rest are left out."""
        # The session is checked again too: signing out or an ended session stops the download.
        # A download under way counts as activity, or a slow one would time its own session out.
        self.principal = sessions.resume(self.db, self.session_token)
        with transaction(self.db, write=False) as session:
            try:
                found = {report.id: report for report in session.scalars(
                    select(Report).where(Report.id.in_(batch), scope.visible(session, self.principal)))}
            except PermissionDenied:
                found = {}
            labels = report_types.names(session)
            entries = []
            for report_id in batch:
                report = found.get(report_id)
                if report is None:
                    self.left_out.append((report_id, _LEFT_OUT))
                    continue
                if not self.blob_store.exists(report.file_sha256):
                    self.left_out.append((report_id, _UNREADABLE))
                    continue
                label = labels.get(report.report_type, report.report_type)
                entries.append(bundles.Entry(
                    report_id, report.file_sha256,
                    pdf_file_name(report.report_type, report.service_date, report.id),
                    f"{label}, {report.service_date:%Y-%m-%d}, report {report.id}"))
        return entries

    def _record_sent(self, report_ids: list[int]) -> None:
        if not report_ids:
            return
        now = clock.now()
        with transaction(self.db) as session:
            mark_read(session, self.principal, report_ids)
            portal_activity.record_access(session, self.principal, report_ids, download=True)
            for report_id in report_ids:
                audit.record(session, action="report.downloaded",
                             actor_user_id=self.principal.user_id, actor_email=self.principal.email,
                             target_type="report", target_id=report_id,
                             details=self.download_details, now=now)
        self.sent += report_ids

    def _record_end(self, action: str, reason: str | None) -> None:
        details = {"bundle": self.bundle_format, "bundle_size": len(self.report_ids),
                   "reports_sent": len(self.sent), "reports_left_out": len(self.left_out)}
        if reason:
            details["reason"] = reason
        with transaction(self.db) as session:
            audit.record(session, action=action, actor_user_id=self.principal.user_id,
                         actor_email=self.principal.email, details=details)

    def _not_included_text(self) -> str:
        lines = [f"report {report_id}: {why}" for report_id, why in self.left_out]
        return ("These reports were selected but are not in this download:\n\n"
                + "\n".join(lines) + "\n")


def _why(stopped: BaseException) -> str:
    if isinstance(stopped, GeneratorExit):
        return "download_closed"
    if isinstance(stopped, SessionEnded):
        return "session_ended"
    return "error"
