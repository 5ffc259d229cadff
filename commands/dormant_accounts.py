"""Warn, then deactivate, accounts nobody signs in to: `make dormant-accounts`, daily."""

from __future__ import annotations

from db.migrate import open_database
from services.identity import dormant_accounts
from services.wording import plural


def main() -> None:
    everyone, staff = dormant_accounts.limits()
    done = dormant_accounts.run(open_database())
    print(f"Limits: {everyone.days} days without a sign-in, {staff.days} for staff and admins.")
    print(f"Warned {plural(done.warned, 'account', 'accounts')}; deactivated "
          f"{plural(done.deactivated, 'account', 'accounts')}. Deliver the emails with: make send-mail")


if __name__ == "__main__":
    main()
