"""`make admin`: create the first system admin of a portal that starts without demo data."""

from __future__ import annotations

import getpass
import os
import sys

from db.migrate import open_database
from services.errors import DomainError
from services.identity.password_policy import help_text
from services.identity.users import create_first_admin
from services.mail import addresses


def main() -> int:
    email = os.environ.get("ADMIN_EMAIL") or input("Email address: ")
    name = os.environ.get("ADMIN_NAME") or input("Full name: ")
    password = os.environ.get("ADMIN_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password ({'; '.join(help_text())}): ")
        if getpass.getpass("Repeat the password: ") != password:
            print("The passwords do not match; nothing was created.", file=sys.stderr)
            return 1
    db = open_database()
    try:
        create_first_admin(db, email=email, name=name, password=password)
    except DomainError as error:
        print(f"{error} Nothing was created.", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"System admin {addresses.normalise(email)} created. Sign in at the portal.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
