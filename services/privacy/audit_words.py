"""The audit trail in words: actions by their labels, targets by name with their id, details as
short sentences.

Names come from one query per batch of events (never one per event). Details hold ids, counts
and reasons only, so the words built from them carry no patient data either: a report is named
by its number, never by its patient.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from db.models import Account, AuditEvent, Provider, ProviderGroup, User
from services import audit, policy

# Targets and detail ids that name a row with a name; what each is called next to its id.
_NAMED = {"user": User, "provider": Provider, "provider_group": ProviderGroup, "account": Account}
_NOUNS = {"user": "user", "provider": "provider", "provider_group": "provider group",
          "account": "account"}
_NUMBERED = {"report": "Report", "incident": "Incident", "invitation": "Role invitation",
             "session": "Session", "npi": "NPI", "dashboard": "Dashboard",
             "terms": "Terms of use version", "saved_search": "Saved search",
             "access_review": "Access review"}
_ID_KEYS = {"user_id": "user", "provider_id": "provider", "group_id": "provider_group",
            "account_id": "account"}
# A provider moved between groups: the groups it left and joined, named like other targets.
_MOVED_KEYS = {"from_group_id": "From group", "to_group_id": "To group"}

# What the Audit page's target filter offers, in words.
TARGET_KINDS = {"report": "Report", "user": "Person", "incident": "Incident", "account": "Client account",
                "provider": "Provider", "provider_group": "Provider group", "invitation": "Role invitation",
                "session": "Session", "npi": "NPI", "dashboard": "Dashboard", "audit": "Audit trail",
                "report_type": "Report type", "terms": "Terms of use", "saved_search": "Saved search",
                "portal_settings": "Portal settings", "access_review": "Access review",
                "patient": "Patient"}

_REASONS = {"bad_password": "wrong password", "unknown_user": "no account with that email",
            "locked": "account locked", "deactivated": "account deactivated",
            "invited": "invitation not yet accepted", "changed": "account changed while signing in",
            "session_ended": "not signed in", "other_user": "signed in as someone else",
            "used_or_expired": "already used or expired", "download_closed": "the download was closed",
            "error": "an error on the server"}

# Words for detail keys whose value reads well after "Key: ".
_KEY_WORDS = {
    "by": "By", "via": "Via", "status": "Status", "email": "Sent to", "npi": "NPI",
    "code_id": "Registration code", "superseded": "Earlier codes replaced", "version": "Terms version",
    "terms_version": "Terms version", "report_type": "Report type", "channel": "Reported through",
    "outcome": "Outcome", "attested_destroyed": "Recipient attested destruction",
    "individuals": "Individuals notified", "hhs": "HHS notified", "new_account": "New account",
    "client_address": "From address", "new_results": "New-result emails",
    "first_bad_id": "First changed event", "temporary_files": "Temporary files removed",
    "previews_removed": "Previews removed", "removed": "Files removed", "tpa_accounts": "TPA accounts",
    "old_email": "Old email address", "new_email": "New email address", "before": "Before",
    "after": "After", "characters": "Characters in the text",
    "in_email": "In new-result emails",
    "correction": "Correction (report)", "corrects": "Corrects report",
}

Names = dict[tuple[str, int], str]
TimeFormat = Callable[[datetime], str]


# Refusals of things no role may do for someone else (not actions of the policy's table).
_OTHER_REFUSALS = {"time_zone.change": "Change another person's time zone"}


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class AuditLine:
    """One event as a privacy officer reads it; `parts` keep times as datetimes so the screen
    shows them the way it shows every other time."""

    event: AuditEvent
    action: str
    target: str
    sentence: str
    parts: tuple[tuple[str, object], ...]

    def details(self, when: TimeFormat = iso_utc) -> str:
        return "; ".join(_part(key, value, when) for key, value in self.parts)


def label(action: str) -> str:
    """The action's words; a name recorded before it had words reads as itself."""
    return audit.ACTIONS.get(action, action)


def codes_for(labels: Iterable[str]) -> tuple[str, ...]:
    """The action names behind the chosen labels (labels are unique, so one each)."""
    chosen = set(labels)
    return tuple(code for code, words in audit.ACTIONS.items() if words in chosen)


def lines(session: Session, events: list[AuditEvent]) -> list[AuditLine]:
    """The events in words, with every name they mention looked up in one query."""
    names = _names(session, events)
    return [_line(event, names) for event in events]


def _line(event: AuditEvent, names: Names) -> AuditLine:
    details = dict(event.details or {})
    target = _target(event.target_type, event.target_id, names)
    parts = tuple(_parts(details, names))
    words = label(event.action)
    role = _role_words(details.get("changed") if isinstance(details.get("changed"), dict)
                       else details, names)
    if event.action in ("user.role_granted", "invitation.sent", "invitation.resent") and role:
        person = target if event.action.startswith("user.") else details.get("email", target)
        sentence = f"{words} to {person}: {role}"
    elif event.action == "user.role_revoked" and role:
        sentence = f"{words} from {target}: {role}"
    elif event.action == "user.role_changed" and role:
        sentence = f"{words} for {target}: now {role}"
    else:
        sentence = f"{words}: {target}" if target else words
    return AuditLine(event=event, action=words, target=target, sentence=sentence, parts=parts)


def _names(session: Session, events: list[AuditEvent]) -> Names:
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.target_type in _NAMED and _number(event.target_id) is not None:
            wanted[event.target_type].add(_number(event.target_id))
        for kind, number in _mentioned(event.details or {}):
            wanted[kind].add(number)
    if not wanted:
        return {}
    selects = [select(literal(kind).label("kind"), _NAMED[kind].id, _NAMED[kind].name)
               .where(_NAMED[kind].id.in_(sorted(ids))) for kind, ids in wanted.items()]
    query = selects[0] if len(selects) == 1 else union_all(*selects)
    return {(kind, number): name for kind, number, name in session.execute(query)}


def _mentioned(details: dict) -> Iterable[tuple[str, int]]:
    for key, value in details.items():
        if key in _ID_KEYS and _number(value) is not None:
            yield _ID_KEYS[key], _number(value)
        elif key in _MOVED_KEYS and _number(value) is not None:
            yield "provider_group", _number(value)
        elif isinstance(value, dict):
            yield from _mentioned(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _mentioned(item)


def _number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _target(kind: str | None, target_id: str | None, names: Names) -> str:
    if not kind:
        return ""
    if kind == "audit":
        return "Audit trail"
    if kind in _NAMED:
        number = _number(target_id)
        name = names.get((kind, number))
        noun = _NOUNS[kind]
        if name is None:
            return f"{noun.capitalize()} {target_id}" if target_id else noun.capitalize()
        return f"{name} ({noun} {number})"
    noun = _NUMBERED.get(kind, kind.replace("_", " ").capitalize())
    return f"{noun} {target_id}" if target_id else noun


def _role_words(grant: dict | None, names: Names) -> str:
    """"Provider staff at Sunbelt Clinic" from a recorded grant (role plus where it applies)."""
    if not isinstance(grant, dict) or "role" not in grant:
        return ""
    try:
        words = policy.ROLE_LABELS[policy.Role(grant["role"])]
    except ValueError:
        words = str(grant["role"]).replace("_", " ").capitalize()
    for key in ("provider_id", "group_id", "account_id"):
        if key in grant:
            kind = _ID_KEYS[key]
            place = names.get((kind, _number(grant[key])), f"{_NOUNS[kind]} {grant[key]}")
            return f"{words} at {place}"
    return words


def _parts(details: dict, names: Names) -> Iterable[tuple[str, object]]:
    """Details as (words, value) pairs: known keys in the portal's words, others humanised."""
    details = dict(details)
    role = _role_words(details, names)
    if role:
        yield "Role", role
        for key in ("role", "provider_id", "group_id", "account_id"):
            details.pop(key, None)
    changed = details.pop("changed", None)
    if isinstance(changed, dict):
        yield "Role", _role_words(changed, names)
    elif changed:
        yield "Changed", ", ".join(str(c) for c in changed) if isinstance(changed, list) else changed
    for key, words in (("old_roles", "Roles before"), ("new_roles", "Roles after")):
        if key in details:
            roles = details.pop(key)
            yield words, _listed([_role_words(g, names) for g in roles]) or "none"
    if "purpose" in details:
        reference = details.pop("reference", "")
        yield "Purpose", details.pop("purpose") + (f" (ticket {reference})" if reference else "")
    if "bundle" in details:
        count = details.pop("bundle_size", None)
        kind = str(details.pop("bundle")).upper()
        yield "", f"In a {kind} bundle" + (f" of {_count(count, 'report')}" if count else "")
    if "old_status" in details or "new_status" in details:
        yield "Status", f"{details.pop('old_status', '?')} → {details.pop('new_status', '?')}"
    if "from" in details or "to" in details:
        yield "Period", (_when(details.pop("from", "")), _when(details.pop("to", "")))
    if "sent" in details:
        yield "", ", ".join(f"{_count(details.pop(k, 0), 'email')} {k}" if k == "sent"
                            else f"{details.pop(k, 0)} {k}" for k in ("sent", "retried", "failed"))
    for key, value in details.items():
        yield from _known(key, value, names)


def _known(key: str, value, names: Names) -> Iterable[tuple[str, object]]:
    counted = {"sessions_ended": ("session", "ended"), "other_sessions_ended": ("other session", "ended"),
               "rows": ("row", ""), "checked": ("event", "checked"),
               "recipients": ("recipient account", ""), "users_checked": ("account", "checked"),
               "emails": ("email", "queued"), "refusals": ("refused action", "in a row"),
               "reports_sent": ("report", "sent"), "reports_left_out": ("report", "left out")}
    if key in counted and isinstance(value, int):
        noun, verb = counted[key]
        yield "", f"{_count(value, noun)} {verb}".rstrip()
    elif key in _MOVED_KEYS and _number(value) is not None:
        yield _MOVED_KEYS[key], _target("provider_group", str(value), names)
    elif key in _ID_KEYS and _number(value) is not None:
        kind = _ID_KEYS[key]
        yield _NOUNS[kind].capitalize(), _target(kind, str(value), names)
    elif key == "report_id":
        yield "", f"Report {value}"
    elif key == "reason":
        yield "Reason", _REASONS.get(str(value), str(value).replace("_", " "))
    elif key == "action":
        try:
            yield "Refused", policy.ACTION_LABELS[policy.Action(value)]
        except ValueError:
            yield "Refused", _OTHER_REFUSALS.get(str(value), str(value).replace("_", " "))
    elif key == "failed_attempts":
        yield "", f"After {_count(value, 'failed attempt')}"
    elif key in ("locked_until", "delivered_before"):
        yield key.replace("_", " ").capitalize(), _when(value)
    elif key == "count":
        yield "", _count(value, "report")
    elif key == "first_bad_id" and value is None:
        return
    elif key == "filter" and isinstance(value, dict):
        yield "Filter", ", ".join(f"{_humanised(k).lower()} {_filter_value(v)}"
                                  for k, v in value.items()) or "none"
    else:
        yield _KEY_WORDS.get(key, _humanised(key)), value


def _filter_value(value) -> str:
    """A recorded search filter's value: a list as words, a flag as yes or no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return _listed([str(item) for item in value])
    return str(value)


def _part(key: str, value, when: TimeFormat) -> str:
    if isinstance(value, tuple):  # a period
        text = " to ".join(_shown(v, when) for v in value)
    else:
        text = _shown(value, when)
    return f"{key}: {text}" if key else text


def _shown(value, when: TimeFormat) -> str:
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{_humanised(k).lower()} {_shown(v, when)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_shown(v, when) for v in value)
    return "" if value is None else str(value)


def _when(value) -> datetime | str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _listed(items: list[str]) -> str:
    """"A", "A and B", "A, B and C": the parts of a detail are already split by semicolons."""
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1] if items else ""]))


def _count(value, noun: str) -> str:
    return f"{value:,} {noun}" + ("" if value == 1 else "s")


def _humanised(key: str) -> str:
    return str(key).replace("_", " ").capitalize()
