"""Moving people from a streamlit-authenticator `config.yaml` into the portal, passwords and all.

Its bcrypt hashes are the format services/identity/passwords.py writes, so each is kept as it
is and people sign in with the password they already have (with their email address). Each
person's roles there become ResultsDesk roles through a mapping the operator writes, as
"role" or "role: place", checked with the same rules as the Users screen (reach.may_grant).
The whole file is checked before anything is written, in one transaction: one bad entry and
nobody is created. People whose address already has an account are reported and left alone.
New people are active, with no terms accepted yet, so they accept the terms at their first
sign-in like anyone new.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import Account, Provider, ProviderGroup, User
from services import audit, clock, reach
from services.errors import InvalidInput, PermissionDenied
from services.identity import memberships
from services.mail import addresses
from services.policy import Action, Grant, Role
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction

NEW, PRESENT, REFUSED = "new", "present", "refused"
NO_ROLE = "none"  # a streamlit-authenticator role that gives nothing here
VIA = "make import-users (from streamlit-authenticator)"
NAME_LENGTH = 200
# $2a$/$2b$/$2y$, a two-digit cost bcrypt accepts, then 22 characters of salt and 31 of hash.
_BCRYPT = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
_BROKEN = object()  # a mapping entry that is itself a problem (reported once, for the file)
NOT_A_HASH = ("its password is not a bcrypt hash (clear text, or a hash of another kind): hash the "
              "file's passwords first with streamlit-authenticator's Hasher.hash_passwords, or "
              "leave this person out and invite them in the portal")
_PLACES = {"account": "client account name or id", "provider_group": "provider group name, id or NPI",
           "provider": "provider name, id or NPI"}


@dataclass(frozen=True)
class RoleMapping:
    """Which ResultsDesk role each streamlit-authenticator role becomes: "role", "role: place"
    or "none". `default` goes to each person whose roles give them no role here."""

    roles: dict[str, object] = field(default_factory=dict)
    default: object | None = None


@dataclass(frozen=True)
class PersonOutcome:
    """One person of the file: new (created, or would be), already present, or refused."""

    username: str
    email: str
    result: str
    roles: tuple[str, ...] = ()  # the ResultsDesk roles a new person gets, in words
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    people: tuple[PersonOutcome, ...]
    problems: tuple[str, ...]  # the file's and the mapping's own, not one person's
    dry_run: bool

    @property
    def valid(self) -> bool:
        return not self.problems and all(person.result != REFUSED for person in self.people)

    @property
    def written(self) -> bool:
        return self.valid and not self.dry_run

    def count(self, result: str) -> int:
        return sum(person.result == result for person in self.people)


@dataclass
class _Entry:
    username: str
    email: str = ""
    name: str = ""
    password_hash: str = ""
    roles: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    present: bool = False  # the address already has an account


def is_bcrypt_hash(value: object) -> bool:
    return isinstance(value, str) and _BCRYPT.fullmatch(value) is not None


def mapping_from(data: object) -> RoleMapping:
    """The mapping file as parsed YAML: `roles:` (their role: our role) and `default:`."""
    if data is None:
        return RoleMapping()
    roles = (data.get("roles") or {}) if isinstance(data, dict) else None
    if not isinstance(roles, dict) or set(data) - {"roles", "default"}:
        raise InvalidInput('A mapping file has two parts, "roles:" (under it one line per '
                           'streamlit-authenticator role, like  viewer: "account_user: Acme '
                           'Freight") and "default:" (a role for everyone else).')
    return RoleMapping({str(name): spec for name, spec in roles.items()}, data.get("default"))


def import_users(db: Database, principal: Principal, *, config: object, mapping: RoleMapping,
                 dry_run: bool = False) -> ImportReport:
    """Create the people of a parsed config.yaml with their hashes and mapped roles, or (dry_run)
    say what would happen. Nothing is written unless the file and the mapping are wholly valid."""
    entries, problems = _entries(config)
    now = clock.now()
    try:
        with transaction(db, write=not dry_run) as session:
            principal.require(Action.MANAGE_USERS, target_type="user")
            mapped, default, mapping_problems, refusals = _resolve_mapping(session, principal, mapping)
            problems += mapping_problems
            _check_people(session, entries, mapped, default)
            report = ImportReport(tuple(_outcome(session, entry) for entry in entries),
                                  tuple(problems), dry_run)
            if report.written:
                for entry in entries:
                    if _outcome_result(entry) == NEW:
                        _create(session, principal, entry, now)
    except IntegrityError:
        # An address of the file got an account while the import ran (an invitation accepted).
        raise InvalidInput("One of these addresses got an account while the import ran; nothing "
                           "was imported. Run the import again.") from None
    # Refused roles are recorded like any refusal, after the work they stopped.
    for denied in refusals:
        audit.record_denial(db, denied)
    return report


# --- the file -----------------------------------------------------------------------------------


def _entries(config: object) -> tuple[list[_Entry], list[str]]:
    credentials = config.get("credentials") if isinstance(config, dict) else None
    people = credentials.get("usernames") if isinstance(credentials, dict) else None
    if not isinstance(people, dict):
        return [], ['This is not a streamlit-authenticator config.yaml: it has no '
                    '"credentials: usernames:" section.']
    if not people:
        return [], ['The file lists nobody under "credentials: usernames:".']
    return [_entry(str(username), fields) for username, fields in people.items()], []


def _entry(username: str, fields: object) -> _Entry:
    entry = _Entry(username)
    if not isinstance(fields, dict):
        entry.problems.append("its entry has no fields (email, name, password)")
        return entry
    email = fields.get("email")
    entry.email = addresses.normalise(email) if isinstance(email, str) else ""
    if not entry.email:
        entry.problems.append("it has no email address (people sign in here with their email address)")
    elif not addresses.is_valid(entry.email):
        entry.problems.append(f"{entry.email!r} is not a valid email address")
    entry.name = _name(fields)
    if not entry.name:
        entry.problems.append("it has no name (name, or first_name and last_name)")
    elif len(entry.name) > NAME_LENGTH:
        entry.problems.append(f"its name is longer than {NAME_LENGTH} characters")
    password = fields.get("password")
    if is_bcrypt_hash(password):
        entry.password_hash = password
    else:
        entry.problems.append(NOT_A_HASH)  # never the value itself: it may be a real password
    roles = fields.get("roles")
    roles = [] if roles is None else [roles] if isinstance(roles, str) else roles
    if isinstance(roles, list) and all(isinstance(role, (str, int)) for role in roles):
        entry.roles = [str(role) for role in roles]
    else:
        entry.problems.append("its roles are not a list of names")
    return entry


def _name(fields: dict) -> str:
    name = fields.get("name")
    if isinstance(name, str) and name.strip():
        return " ".join(name.split())
    parts = [fields.get("first_name"), fields.get("last_name")]
    return " ".join(" ".join(part.split()) for part in parts if isinstance(part, str) and part.strip())


# --- the mapping --------------------------------------------------------------------------------


def _resolve_mapping(session: Session, principal: Principal, mapping: RoleMapping):
    """Each mapping entry as a Grant (None for "none"), plus problems and refused roles."""
    problems: list[str] = []
    refusals: list[PermissionDenied] = []

    def resolve(label: str, spec: object) -> object:
        try:
            grant = _grant(session, spec)
        except InvalidInput as problem:
            problems.append(f"{label}: {problem}")
            return _BROKEN
        if grant is not None and not reach.may_grant(principal, grant):
            problems.append(f"{label}: {principal.email} may not give "
                            f"{memberships.label(session, grant)}.")
            refusals.append(principal.denied(Action.MANAGE_USERS, target_type="user"))
            return _BROKEN
        return grant

    mapped = {name: resolve(f"The role {name!r}", spec) for name, spec in mapping.roles.items()}
    default = None if mapping.default is None else resolve("The default role", mapping.default)
    return mapped, default, problems, refusals


def _grant(session: Session, spec: object) -> Grant | None:
    if isinstance(spec, dict) and len(spec) == 1:
        [(role_name, place)] = spec.items()
        role_name, place = str(role_name), "" if place is None else str(place)
    elif isinstance(spec, str):
        role_name, _, place = spec.partition(":")
    else:
        raise InvalidInput('write it as "role" or "role: place".')
    role_name, place = role_name.strip().lower(), place.strip()
    if role_name == NO_ROLE and not place:
        return None
    try:
        role = Role(role_name)
    except ValueError:
        raise InvalidInput(f"there is no ResultsDesk role {role_name!r}; the roles are "
                           f"{', '.join(Role)}, or {NO_ROLE}.") from None
    kind = Grant(role).kind
    if kind == "staff":
        if place:
            raise InvalidInput(f"{role} is a staff role and applies everywhere: write it without a place.")
        return Grant(role)
    where = "account" if kind == "account" else (
        "provider_group" if role == Role.PROVIDER_GROUP_ADMIN else "provider")
    if not place:
        raise InvalidInput(f"{role} needs a place: write {role}: <{_PLACES[where]}>.")
    if where == "account":
        account = _one(session, Account, place, "client account")
        if account.deactivated_at is not None:
            raise InvalidInput(f"the client account {place!r} is deactivated.")
        return Grant(role, account_id=account.id)
    if where == "provider_group":
        return Grant(role, group_id=_one(session, ProviderGroup, place, "provider group").id)
    provider = _one(session, Provider, place, "provider")
    return Grant(role, group_id=provider.group_id, provider_id=provider.id)


def _one(session: Session, model, place: str, noun: str):
    """A place by exact name, by id, or (provider groups and providers) by its 10-digit NPI."""
    has_npi = hasattr(model, "npi")
    if place.isdigit() and len(place) == 10 and has_npi:
        found = session.scalars(select(model).where(model.npi == place)).all()
    elif place.isdigit():
        found = session.scalars(select(model).where(model.id == int(place))).all() if len(place) < 10 else []
    else:
        found = session.scalars(select(model).where(model.name == place).limit(2)).all()
    if not found:
        raise InvalidInput(f"there is no {noun} {place!r} (give its exact name or its id"
                           f"{' or NPI' if has_npi else ''}).")
    if len(found) > 1:
        raise InvalidInput(f"more than one {noun} is named {place!r}: give its id"
                           f"{' or NPI' if has_npi else ''} instead.")
    return found[0]


# --- the people ---------------------------------------------------------------------------------


def _check_people(session: Session, entries: list[_Entry], mapped: dict, default) -> None:
    by_email: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        if entry.email:
            by_email[entry.email].append(entry)
        entry.grants = _grants_of(entry, mapped, default)
    for same in by_email.values():
        for entry in same if len(same) > 1 else ():
            others = ", ".join(repr(other.username) for other in same if other is not entry)
            entry.problems.append(f"it has the same email address as {others}")
    present = _present(session, list(by_email))
    for entry in entries:
        entry.present = entry.email in present


def _grants_of(entry: _Entry, mapped: dict, default) -> list[Grant]:
    wanted, broken = [], False
    for role in entry.roles:
        if role not in mapped:
            entry.problems.append(f"its role {role!r} is not mapped: add --role "
                                  f"{role}=<ResultsDesk role> (or {role}={NO_ROLE})")
        elif mapped[role] is _BROKEN:
            broken = True  # the mapping's own problem is reported once, for the file
        elif mapped[role] is not None:
            wanted.append(mapped[role])
    if not wanted and not broken and not entry.problems:
        if default is None:
            entry.problems.append("it would get no ResultsDesk role: map its roles, or give a "
                                  "default role")
        elif default is not _BROKEN:
            wanted.append(default)
    return _one_role_per_place(wanted)


def _one_role_per_place(grants: list[Grant]) -> list[Grant]:
    """A person holds one role at a place: where two are mapped there (an admin who is also a
    user), the one that manages more is kept (the policy lists roles from most to least)."""
    order = list(Role)
    kept: dict[tuple, Grant] = {}
    for grant in sorted(set(grants), key=lambda g: order.index(g.role)):
        place = (grant.role,) if grant.kind == "staff" else (
            grant.kind, grant.group_id, grant.provider_id, grant.account_id)
        kept.setdefault(place, grant)
    return list(kept.values())


def _present(session: Session, emails: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(emails), 500):
        found.update(session.scalars(select(User.email).where(User.email.in_(emails[start:start + 500]))))
    return found


def _outcome_result(entry: _Entry) -> str:
    if entry.problems:
        return REFUSED
    return PRESENT if entry.present else NEW


def _outcome(session: Session, entry: _Entry) -> PersonOutcome:
    result = _outcome_result(entry)
    roles = tuple(memberships.label(session, grant) for grant in entry.grants) if result == NEW else ()
    return PersonOutcome(entry.username, entry.email, result, roles, tuple(entry.problems))


def _create(session: Session, principal: Principal, entry: _Entry, now) -> None:
    user = User(email=entry.email, name=entry.name, password_hash=entry.password_hash,
                status=UserStatus.ACTIVE, created_at=now)
    session.add(user)
    session.flush()
    for grant in entry.grants:
        memberships.add_role(session, user.id, grant)
    audit.record(session, action="user.created", actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="user", target_id=user.id, now=now,
                 details={"via": VIA, "new_roles": [memberships.describe(g) for g in entry.grants]})
