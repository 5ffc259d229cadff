"""Saved searches: a person's named Reports filters, with "N new since you last looked".

A saved search keeps the filter as JSON (dates as ISO days). Its scope is never stored: every
count and every opening runs through services/reports/search.py, which starts from the
principal's scope as it is now. A saved filter that names something the person can no longer
filter by (an account they left, a provider out of reach, a report type no longer offered to
them) no longer applies: it is not counted and does not open, it only waits to be deleted.

The name is the person's own words and may name a patient, so it never goes into the audit
trail (the saved search's id does) nor into an error message.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import SavedSearch
from services import audit, clock
from services.errors import DomainError, InvalidInput, NotFound
from services.policy import Action
from services.principals import Principal
from services.reports import periods, search
from services.reports.search import FilterChoices, ReportFilter
from services.transaction import transaction

MAX_PER_PERSON = 20
NAME_LENGTH = 80
# "N new since you last looked" is counted up to here, then shown as "99+".
NEW_CAP = 99
_DATES = ("posted_from", "posted_to", "service_from", "service_to")
_LISTS = ("report_types", "statuses")
_READ_STATES = ("all", "new", "opened")
# "Last 7 days" stays the last 7 days: these presets are kept by name and counted from today.
RELATIVE_PRESETS = tuple(p for p in periods.PRESETS if p not in (periods.ANY_TIME,
                                                                   periods.CUSTOM_RANGE))
_TAKEN = "You already have a saved search with that name: choose another name."
_MISSING = "That saved search no longer exists."


@dataclass(frozen=True)
class SavedSearchEntry:
    """One line of the person's saved searches on Home."""

    id: int
    name: str
    in_email: bool
    last_looked_at: datetime
    new_count: int
    new_capped: bool
    # Why it no longer applies ("" while it does); then it is neither counted nor opened.
    not_applying: str = ""

    @property
    def new_label(self) -> str:
        return f"{NEW_CAP}+" if self.new_capped else str(self.new_count)


@dataclass(frozen=True)
class OpenedSearch:
    id: int
    name: str
    report_filter: ReportFilter
    # A relative "Posted" preset ("Last 7 days") the dates were counted from today; None when
    # the search keeps fixed posting dates (or none).
    posted_preset: str | None


def save(db: Database, principal: Principal, *, name: str, report_filter: ReportFilter,
         posted_preset: str | None = None) -> int:
    """Keep the filter under a name; returns the saved search's id."""
    now = clock.now()
    checked = _checked_name(name)
    try:
        with transaction(db) as session:
            principal.require(Action.VIEW_REPORTS)
            # One save at a time per person, so two tabs cannot both take the twentieth place.
            db.serialise(session, f"saved_searches:{principal.user_id}")
            mine = select(SavedSearch.name).where(SavedSearch.user_id == principal.user_id)
            names = session.scalars(mine).all()
            if len(names) >= MAX_PER_PERSON:
                raise InvalidInput(f"You can keep at most {MAX_PER_PERSON} saved searches: "
                                   "delete one to save another.")
            if checked.casefold() in {n.casefold() for n in names}:
                raise InvalidInput(_TAKEN)
            why_not = _why_not(search.choices_in(session, principal), report_filter, principal)
            if why_not:
                raise InvalidInput(why_not)
            row = SavedSearch(user_id=principal.user_id, name=checked,
                              filters=_encoded(report_filter, _kept_preset(
                                  posted_preset, report_filter, principal)),
                              in_email=False, created_at=now, last_looked_at=now)
            session.add(row)
            session.flush()
            _record(session, principal, "saved_search.saved", row.id, now)
            return row.id
    except IntegrityError:
        # The same name saved at the same moment in another tab.
        raise InvalidInput(_TAKEN) from None


def listing(db: Database, principal: Principal) -> list[SavedSearchEntry]:
    """The person's saved searches by name, each with its reports new since they last looked."""
    with transaction(db, write=False) as session:
        principal.require(Action.VIEW_REPORTS)
        rows = session.scalars(select(SavedSearch).where(SavedSearch.user_id == principal.user_id)
                               .order_by(func.lower(SavedSearch.name), SavedSearch.id)).all()
        if not rows:
            return []
        choices = search.choices_in(session, principal)
        return [_entry(session, principal, choices, row) for row in rows]


def open(db: Database, principal: Principal, *, saved_search_id: int) -> OpenedSearch:
    """The saved filter, to apply on Reports; from now on its reports are no longer new."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.VIEW_REPORTS)
        row = _own(session, principal, saved_search_id)
        report_filter, preset = _decoded(row.filters, principal)
        why_not = _why_not(search.choices_in(session, principal), report_filter, principal)
        if why_not:
            raise InvalidInput(why_not)
        row.last_looked_at = now
        return OpenedSearch(id=row.id, name=row.name, report_filter=report_filter,
                            posted_preset=preset)


def rename(db: Database, principal: Principal, *, saved_search_id: int, name: str) -> None:
    now = clock.now()
    checked = _checked_name(name)
    try:
        with transaction(db) as session:
            principal.require(Action.VIEW_REPORTS)
            db.serialise(session, f"saved_searches:{principal.user_id}")
            row = _own(session, principal, saved_search_id)
            if row.name == checked:
                return
            others = session.scalars(select(SavedSearch.name).where(
                SavedSearch.user_id == principal.user_id, SavedSearch.id != row.id)).all()
            if checked.casefold() in {n.casefold() for n in others}:
                raise InvalidInput(_TAKEN)
            row.name = checked
            session.flush()
            _record(session, principal, "saved_search.renamed", row.id, now)
    except IntegrityError:
        raise InvalidInput(_TAKEN) from None


def delete(db: Database, principal: Principal, *, saved_search_id: int) -> None:
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.VIEW_REPORTS)
        row = _own(session, principal, saved_search_id)
        session.delete(row)
        _record(session, principal, "saved_search.deleted", saved_search_id, now)


def set_in_email(db: Database, principal: Principal, *, saved_search_id: int,
                 included: bool) -> None:
    """Whether the new-result email gives this search's count (never more than the count)."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.VIEW_REPORTS)
        row = _own(session, principal, saved_search_id)
        if row.in_email == included:
            return
        row.in_email = included
        _record(session, principal, "saved_search.email_changed", row.id, now,
                details={"in_email": included})


def email_lines(session: Session, principal: Principal, *, since: datetime,
                until: datetime) -> list[str]:
    """For the new-result email: one line per saved search the person put in it, with how many
    of its reports arrived in (since, until] unopened; counts only, none for a zero."""
    rows = session.scalars(select(SavedSearch).where(SavedSearch.user_id == principal.user_id,
                                                     SavedSearch.in_email.is_(True))
                           .order_by(func.lower(SavedSearch.name), SavedSearch.id)).all()
    if not rows:
        return []
    choices = search.choices_in(session, principal)
    lines = []
    for row in rows:
        try:
            report_filter, _ = _decoded(row.filters, principal)
        except InvalidInput:
            continue
        # The email counts the unopened ones, like its first line: one seen already is no news.
        if report_filter.read == "opened" or _why_not(choices, report_filter, principal):
            continue
        try:
            found, capped = search.count_delivered(
                session, principal, dataclasses.replace(report_filter, read="new"),
                after=since, until=until, cap=NEW_CAP)
        except InvalidInput:
            continue
        if found:
            label = f"{NEW_CAP}+" if capped else str(found)
            noun = "result" if found == 1 and not capped else "results"
            lines.append(f"Saved search “{row.name}”: {label} new {noun}")
    return lines


def _entry(session: Session, principal: Principal, choices: FilterChoices,
           row: SavedSearch) -> SavedSearchEntry:
    def entry(count: int = 0, capped: bool = False, why_not: str = "") -> SavedSearchEntry:
        return SavedSearchEntry(id=row.id, name=row.name, in_email=row.in_email,
                                last_looked_at=row.last_looked_at, new_count=count,
                                new_capped=capped, not_applying=why_not)

    try:
        report_filter, _ = _decoded(row.filters, principal)
        why_not = _why_not(choices, report_filter, principal)
        if why_not:
            return entry(why_not=why_not)
        count, capped = search.count_delivered(session, principal, report_filter,
                                               after=row.last_looked_at, cap=NEW_CAP)
    except DomainError as error:
        return entry(why_not=str(error))
    return entry(count, capped)


def _own(session: Session, principal: Principal, saved_search_id: int) -> SavedSearch:
    """The principal's own saved search; another person's is as missing as a deleted one."""
    row = session.get(SavedSearch, saved_search_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound(_MISSING)
    return row


def _checked_name(typed: str) -> str:
    name = " ".join((typed or "").split())
    if not name:
        raise InvalidInput("Give the search a name.")
    if len(name) > NAME_LENGTH:
        raise InvalidInput(f"A saved search's name is at most {NAME_LENGTH} characters.")
    if not name.isprintable():
        raise InvalidInput("A saved search's name is one line of plain text.")
    return name


def _why_not(choices: FilterChoices, f: ReportFilter, principal: Principal) -> str:
    """Why a saved filter no longer applies for this person ("" when it does): it names what the
    Reports form no longer offers them, so it could neither show it nor search by it."""
    if set(f.report_types) - set(choices.report_types):
        return "It names a report type you can no longer search for."
    if f.account_id is not None and f.account_id not in choices.accounts:
        return "It names a client account you no longer have access to."
    if f.provider_id is not None and f.provider_id not in choices.providers:
        return "It names a provider you no longer have access to."
    if f.state.strip() and f.state.strip().upper() not in choices.states:
        return "It names a state none of your providers are in."
    return ""


def _kept_preset(preset: str | None, f: ReportFilter, principal: Principal) -> str | None:
    """The relative preset, when it is what gave the filter its posting dates today."""
    if preset not in RELATIVE_PRESETS:
        return None
    if periods.posted_between(preset, zone=principal.zone) != (f.posted_from, f.posted_to):
        return None
    return preset


def _encoded(f: ReportFilter, preset: str | None) -> str:
    data = dataclasses.asdict(f)
    for key in _DATES:
        data[key] = data[key].isoformat() if data[key] else None
    for key in _LISTS:
        data[key] = list(data[key])
    if preset:
        data["posted_preset"] = preset
        data["posted_from"] = data["posted_to"] = None
    return json.dumps(data, sort_keys=True)


def _decoded(text: str, principal: Principal) -> tuple[ReportFilter, str | None]:
    """The stored filter as it applies today (a relative preset counted from today)."""
    try:
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(ReportFilter)}
        values = {key: value for key, value in data.items() if key in known}
        for key in _DATES:
            if values.get(key):
                values[key] = date.fromisoformat(values[key])
        for key in _LISTS:
            values[key] = tuple(str(item) for item in values.get(key) or ())
        if values.get("read", "all") not in _READ_STATES:
            raise ValueError("read state")
        for key in ("account_id", "provider_id", "report_id"):
            if values.get(key) is not None and not isinstance(values[key], int):
                raise ValueError(key)
        if not principal.is_staff:
            values["statuses"] = ()  # the search ignores them for everyone else too
        report_filter = ReportFilter(**values)
        preset = data.get("posted_preset")
        if preset is not None:
            if preset not in RELATIVE_PRESETS:
                raise ValueError("preset")
            posted_from, posted_to = periods.posted_between(preset, zone=principal.zone)
            report_filter = dataclasses.replace(report_filter, posted_from=posted_from,
                                                posted_to=posted_to)
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput("This saved search can no longer be read: delete it and save it "
                           "again.") from None
    return report_filter, preset


def _record(session: Session, principal: Principal, action: str, saved_search_id: int,
            now: datetime, *, details: dict | None = None) -> None:
    audit.record(session, action=action, actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="saved_search",
                 target_id=saved_search_id, details=details, now=now)
