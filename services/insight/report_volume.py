"""The daily report-volume rollup the Dashboard reads, kept exact as reports change.

Every change to what a report contributes (posting, routing added or removed, first opening
by a recipient, archiving, re-delivery, withdrawal; a correction is a posting of its own, counted
on its own posting day, and its predecessor's withdrawal on that one's) runs inside `recount(session, report_ids)`: the
reports' contribution is taken before and after the change, from their own rows, and the
difference is added to report_volume_daily (and, summed to account, day, type and provider
group, to account_volume_daily). Adding differences commutes, so concurrent
changes to different reports never conflict; changes to one report take turns (its row is
locked on PostgreSQL; SQLite writes are serial anyway).

`python -m commands.rollup` rebuilds the whole rollup from the report rows, for repair
or after a bulk load; the Dashboard never aggregates report rows itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import Select, case, delete, func, insert, literal, select, true, tuple_
from sqlalchemy.orm import Session

from db import dialect
from db.engine import Database
from db.models import (
    EVERY_REPORT,
    AccountVolumeDaily,
    Provider,
    Report,
    ReportRecipient,
    ReportVolumeDaily,
)
from services.statuses import ReportStatus
from services.transaction import transaction

# The results-portal FAQ's promises. The rollup's columns keep their first names (within_72h,
# opened_3d); changing a promise means rebuilding the rollup (make rollup).
TURNAROUND_TARGET = timedelta(hours=72)  # non-injury results posted within this of the visit
OPENED_WITHIN = timedelta(days=3)  # a result opened by its recipient within this of posting
TURNAROUND_TARGET_SECONDS = int(TURNAROUND_TARGET.total_seconds())
OPENED_WITHIN_SECONDS = int(OPENED_WITHIN.total_seconds())
KEY = ("account_id", "day", "report_type", "provider_id", "state", "injury")
MEASURES = ("reports", "turnaround_seconds", "within_72h", "routed", "opened", "opened_3d",
            "archived", "redelivered", "corrections", "withdrawn")
ACCOUNT_KEY = ("day", "account_id", "report_type", "group_id")
ACCOUNT_MEASURES = ("reports", "opened_3d")


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def contribution(session: Session, report_ids: Iterable[int] | None = None) -> list[Select]:
    """The rollup rows these reports (all reports when None) make: one SELECT per kind of row."""
    def seconds(value):
        return dialect.epoch_seconds(session, value)

    posted = seconds(Report.posted_at)
    turnaround = posted - seconds(Report.service_date)
    chosen = Report.id.in_(list(report_ids)) if report_ids is not None else true()
    common = (dialect.utc_day(session, Report.posted_at).label("day"), Report.report_type,
              Report.provider_id, Report.state, Report.injury, Provider.group_id)
    counts = (func.count().label("reports"), func.sum(turnaround).label("turnaround_seconds"),
              _flag(turnaround <= TURNAROUND_TARGET_SECONDS).label("within_72h"))
    lifecycle = (_flag(Report.status == ReportStatus.ARCHIVED).label("archived"),
                 _flag(Report.delivered_at > Report.posted_at).label("redelivered"),
                 _flag(Report.corrects_report_id.is_not(None)).label("corrections"),
                 _flag(Report.status == ReportStatus.WITHDRAWN).label("withdrawn"))

    routing = (select(ReportRecipient.report_id,
                      func.min(ReportRecipient.first_opened_at).label("at"))
               .group_by(ReportRecipient.report_id))
    if report_ids is not None:
        routing = routing.where(ReportRecipient.report_id.in_(list(report_ids)))
    first_open = routing.subquery()
    every = (select(literal(EVERY_REPORT).label("account_id"), *common, *counts,
                    _flag(first_open.c.report_id.is_not(None)).label("routed"),
                    _flag(first_open.c.at.is_not(None)).label("opened"),
                    _flag(seconds(first_open.c.at) - posted <= OPENED_WITHIN_SECONDS)
                    .label("opened_3d"), *lifecycle)
             .join(Provider, Provider.id == Report.provider_id)
             .outerjoin(first_open, first_open.c.report_id == Report.id)
             .where(chosen)
             .group_by(*common))
    opened_at = ReportRecipient.first_opened_at
    per_account = (select(ReportRecipient.account_id, *common, *counts,
                          func.count().label("routed"),
                          _flag(opened_at.is_not(None)).label("opened"),
                          _flag(seconds(opened_at) - posted <= OPENED_WITHIN_SECONDS)
                          .label("opened_3d"), *lifecycle)
                   .join(Report, Report.id == ReportRecipient.report_id)
                   .join(Provider, Provider.id == Report.provider_id)
                   .where(chosen)
                   .group_by(ReportRecipient.account_id, *common))
    return [every, per_account]


def _rows(session: Session, report_ids: list[int]) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}
    for query in contribution(session, report_ids):
        for row in session.execute(query).mappings():
            day = row["day"]
            key = (row["account_id"], day if isinstance(day, date) else date.fromisoformat(day),
                   row["report_type"], row["provider_id"], row["state"], bool(row["injury"]))
            rows[key] = {"group_id": row["group_id"],
                         **{measure: int(row[measure] or 0) for measure in MEASURES}}
    return rows


@contextmanager
def recount(session: Session, report_ids: Iterable[int]) -> Iterator[None]:
    """Keep the rollup exact across a change to these reports made inside the block."""
    ids = sorted(set(report_ids))
    if not ids:
        yield
        return
    dialect.lock_rows(session, select(Report.id).where(Report.id.in_(ids)).order_by(Report.id))
    session.flush()
    before = _rows(session, ids)
    yield
    session.flush()
    after = _rows(session, ids)
    _apply(session, before, after)


def add_posted(session: Session, report_ids: list[int]) -> None:
    """Count reports just inserted (with their routing) in this transaction."""
    session.flush()
    _apply(session, {}, _rows(session, sorted(set(report_ids))))


def _apply(session: Session, before: dict[tuple, dict], after: dict[tuple, dict]) -> None:
    changes = []
    for key in sorted(before.keys() | after.keys()):  # one order everywhere: no deadlocks
        old, new = before.get(key), after.get(key)
        delta = {m: (new[m] if new else 0) - (old[m] if old else 0) for m in MEASURES}
        if any(delta.values()):
            changes.append({**dict(zip(KEY, key)), "group_id": (new or old)["group_id"], **delta})
    _add(session, ReportVolumeDaily, KEY, MEASURES, changes)
    per_account: dict[tuple, dict] = {}
    for change in changes:
        if change["account_id"] == EVERY_REPORT:
            continue
        key = tuple(change[k] for k in ACCOUNT_KEY)
        summed = per_account.setdefault(key, {**dict(zip(ACCOUNT_KEY, key)),
                                              **{m: 0 for m in ACCOUNT_MEASURES}})
        for measure in ACCOUNT_MEASURES:
            summed[measure] += change[measure]
    _add(session, AccountVolumeDaily, ACCOUNT_KEY, ACCOUNT_MEASURES,
         [per_account[key] for key in sorted(per_account)
          if any(per_account[key][m] for m in ACCOUNT_MEASURES)])


def _add(session: Session, model, key: tuple[str, ...], measures: tuple[str, ...],
         changes: list[dict]) -> None:
    """Add the differences to a rollup's rows, dropping rows left with no report."""
    if not changes:
        return
    table = model.__table__
    session.execute(dialect.insert_or_add(session, model, key=key, counters=measures), changes)
    emptied = [tuple(change[k] for k in key) for change in changes if change["reports"] < 0]
    if emptied:
        session.execute(delete(model).where(tuple_(*(table.c[k] for k in key)).in_(emptied),
                                            model.reports <= 0))


def rebuild(db: Database) -> int:
    """Recompute the whole rollup from the report rows; returns how many rollup rows it holds."""
    with transaction(db) as session:
        db.serialise(session, "report_volume:rebuild")
        return rebuild_in(session)


def rebuild_in(session: Session) -> int:
    """The rebuild inside the caller's transaction (the demo seed's, a bulk load's)."""
    columns = [*KEY, "group_id", *MEASURES]
    # Changes to reports wait until the new rollup is in: a change committed while the
    # rollup was being recomputed would otherwise be counted twice or lost.
    dialect.hold_off_writes(session, Report, ReportRecipient)
    session.flush()
    session.execute(delete(ReportVolumeDaily))
    session.execute(delete(AccountVolumeDaily))
    for query in contribution(session):
        inner = query.subquery()
        session.execute(insert(ReportVolumeDaily).from_select(
            columns, select(*(inner.c[column] for column in columns))))
    fine = ReportVolumeDaily
    session.execute(insert(AccountVolumeDaily).from_select(
        [*ACCOUNT_KEY, *ACCOUNT_MEASURES],
        select(*(getattr(fine, k) for k in ACCOUNT_KEY),
               *(func.sum(getattr(fine, m)) for m in ACCOUNT_MEASURES))
        .where(fine.account_id != EVERY_REPORT)
        .group_by(*(getattr(fine, k) for k in ACCOUNT_KEY))))
    return session.scalar(select(func.count()).select_from(ReportVolumeDaily)) or 0


def is_missing(db: Database) -> bool:
    """True when reports exist but the rollup holds nothing (a database from before it)."""
    with transaction(db, write=False) as session:
        has_reports = session.scalar(select(Report.id).limit(1)) is not None
        has_rollup = session.scalar(select(ReportVolumeDaily.day).limit(1)) is not None
    return has_reports and not has_rollup
