"""Staff see failed and retrying emails (never their bodies); client admins do not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.models import Account, OutboxMessage, User
from services import clock, principals
from services.errors import PermissionDenied
from services.mail import deliveries


def _principal(db, user_id):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def test_failed_and_retrying_emails_are_listed_for_staff(db, make_user, fake_clock):
    now = clock.now()
    with db.transaction() as session:
        account = Account(name="Acme", kind="employer", created_at=now)
        session.add(account)
        for status, attempts, error in (("failed", 6, "SMTPRecipientsRefused: 550"),
                                        ("pending", 2, "ConnectionRefusedError"),
                                        ("pending", 0, None), ("sent", 1, None)):
            session.add(OutboxMessage(kind="invitation", to_address=f"{status}{attempts}@x.test",
                                      subject="s", body="secret link", created_at=now,
                                      status=status, attempts=attempts, last_error=error,
                                      next_attempt_at=now + timedelta(minutes=5)))
        session.flush()
        account_id = account.id
    support = _principal(db, make_user("support@x.test", staff=("support_rep",)))
    found = deliveries.problems(db, support)
    assert sorted((p.to_address, p.status, p.last_error) for p in found) == [
        ("failed6@x.test", "failed", "SMTPRecipientsRefused: 550"),
        ("pending2@x.test", "pending", "ConnectionRefusedError")]
    assert all("secret" not in repr(p) for p in found)
    client_admin = _principal(db, make_user("admin@acme.test", accounts=((account_id, "account_admin"),)))
    with pytest.raises(PermissionDenied):
        deliveries.problems(db, client_admin)
