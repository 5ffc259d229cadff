"""Bring the people of a streamlit-authenticator config.yaml into the portal, keeping their passwords.

    python -m commands.import_users config.yaml --as admin@example.com [--mapping roles.yaml]
        [--role viewer=account_user:"Acme Freight" ...] [--default-role ROLE[:PLACE]] [--dry-run]
    make import-users FILE=config.yaml [AS=admin@example.com] [MAPPING=roles.yaml] [DRY_RUN=1]
        [IMPORT_ARGS='--role viewer=account_user:"Acme Freight"']

One line per person (created, already has an account, or refused with the reasons), then a
summary. Exit status 0 when done (or when a dry run found nothing wrong), 1 when the file or the
mapping has problems (then nothing was written), 2 when nothing could be tried. See "Moving users
from streamlit-authenticator" in docs/operations.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from db.migrate import open_database
from services.errors import InvalidInput, PermissionDenied
from services.identity.user_import import NEW, PRESENT, REFUSED, ImportReport, RoleMapping, import_users, mapping_from
from services.identity.users import acting_as, sole_system_admin


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        config = _yaml(args.file)
        mapping = _mapping(args)
    except (OSError, InvalidInput) as problem:
        print(f"{problem} Nothing was imported.", file=sys.stderr)
        return 2
    db = open_database()
    try:
        if not args.operator.strip():
            # Without --as: the portal's only system admin, named in the output and the trail.
            args.operator = sole_system_admin(db) or ""
            if not args.operator:
                print("Name the portal user who imports, usually a system admin: --as "
                      "you@example.com (make import-users ... AS=you@example.com); the portal has "
                      "no single system admin to act as. Nothing was imported.", file=sys.stderr)
                return 2
        principal = acting_as(db, email=args.operator)
        if principal is None:
            print(f"No active user {_shown(args.operator)}. Nothing was imported.", file=sys.stderr)
            return 2
        report = import_users(db, principal, config=config, mapping=mapping, dry_run=args.dry_run)
    except PermissionDenied:
        print(f"{principal.email} may not manage users. Nothing was imported.", file=sys.stderr)
        return 2
    except InvalidInput as problem:
        print(problem, file=sys.stderr)
        return 1
    finally:
        db.dispose()
    _print(report, args, principal.email)
    return 0 if report.valid else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m commands.import_users",
        description="Create the people of a streamlit-authenticator config.yaml, keeping their "
                    "bcrypt password hashes; nothing is written unless the whole file is valid.")
    parser.add_argument("file", type=Path, help="the streamlit-authenticator config.yaml")
    parser.add_argument("--as", dest="operator", default="",
                        help="the portal user who imports (recorded in the audit trail); an "
                             "active user who may give every mapped role, usually a system admin")
    parser.add_argument("--mapping", type=Path,
                        help="a YAML file with roles: (their role: our role) and default:")
    parser.add_argument("--role", action="append", default=[], metavar="THEIRS=ROLE[:PLACE]",
                        help="their role THEIRS becomes ROLE (at PLACE: a client account, provider "
                             "group or provider, by name or id); ROLE none gives nothing; repeat "
                             "for each role; wins over the mapping file")
    parser.add_argument("--default-role", metavar="ROLE[:PLACE]",
                        help="the role of everyone whose roles give them none here")
    parser.add_argument("--dry-run", action="store_true",
                        default=os.environ.get("DRY_RUN", "") not in ("", "0"),
                        help="show what would happen and write nothing (or DRY_RUN=1)")
    return parser.parse_args(argv)


def _yaml(path: Path, what: str = "file"):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as error:
        # Only the place: the parser's own message quotes the line, which may hold a password.
        mark = getattr(error, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"The {what} {path} is not valid YAML{where}.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"The {what} {path} is not UTF-8 text.") from None


def _mapping(args: argparse.Namespace) -> RoleMapping:
    mapping = mapping_from(_yaml(args.mapping, "mapping file")) if args.mapping else RoleMapping()
    roles = dict(mapping.roles)
    for entry in args.role:
        theirs, equals, ours = entry.partition("=")
        if not equals or not theirs.strip():
            raise InvalidInput(f"--role {entry!r}: write it as their role, =, then ours, like "
                               "--role viewer=account_user:Acme.")
        roles[theirs.strip()] = ours
    default = args.default_role if args.default_role is not None else mapping.default
    return RoleMapping(roles, default)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _shown(text: str) -> str:
    """Text from the file as it is, but no control character reaches the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _print(report: ImportReport, args: argparse.Namespace, operator: str) -> None:
    print(f"{args.file}: {len(report.people)} {'person' if len(report.people) == 1 else 'people'}, "
          f"acting as {operator}{' (dry run: nothing is written)' if report.dry_run else ''}.")
    for person in report.people:
        who = f"{_shown(person.username)} ({_shown(person.email) or 'no email'})"
        if person.result == NEW:
            done = "created" if report.written else "would be created"
            roles = ("as " + "; ".join(person.roles) if person.roles
                     else "(its roles wait on the mapping's problems, below)")
            print(f"  {who}: {done} {roles}")
        elif person.result == PRESENT:
            print(f"  {who}: already has an account, left as it is")
        elif len(person.problems) == 1:
            print(f"  {who}: refused: {_shown(person.problems[0])}")
        else:
            print(f"  {who}: refused:")
            for problem in person.problems:
                print(f"      {_shown(problem)}")
    for problem in report.problems:
        print(f"  {_shown(problem)}")
    new, present, refused = report.count(NEW), report.count(PRESENT), report.count(REFUSED)
    if not report.valid:
        parts = ([f"{refused} of {len(report.people)} people refused"] if refused else []) + (
            [_plural(len(report.problems), "problem") + " with the file or the mapping"]
            if report.problems else [])
        print(f"Nothing was imported: {' and '.join(parts)}. Fix them and run the import again.")
    elif report.dry_run:
        print(f"Dry run: {new} would be created, {present} already present. Run again without "
              "the dry run to import.")
    else:
        print(f"Done: {new} created, {present} already present. They sign in with their email "
              "address and the password they had, and accept the terms of use first.")


if __name__ == "__main__":
    sys.exit(main())
