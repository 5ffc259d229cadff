"""The Users list past 50 people: keyset pages cover everyone exactly once, in email order; and the
"not signed in for N days" (dormant) filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from db.models import Account, AccountMembership, User
from services import clock
from services.errors import InvalidInput
from services.identity import user_directory
from services.identity.user_directory import UserFilter
from tests.conftest import principal_of


def _pages(db, principal, user_filter: UserFilter) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        rows, more = user_directory.search(db, principal, user_filter, after_email=cursor)
        pages.append([row.email for row in rows])
        cursor = user_directory.next_cursor(rows, more)
        if cursor is None:
            return pages


@pytest.fixture
def crowd(db, make_user):
    """A system admin, an account rep and 123 client users of one account (emails in a mixed order)."""
    make_user("root@x.test", staff=("system_admin",))
    make_user("rep@x.test", staff=("account_rep",))
    now = clock.now()
    with db.transaction() as session:
        account = Account(name="Crowded Co", kind="employer", created_at=now)
        session.add(account)
        session.flush()
        emails = [f"person{(n * 37) % 123:03d}@crowd.test" for n in range(123)]
        session.execute(insert(User), [
            {"email": email, "name": f"Person {email[6:9]}", "status": "active", "created_at": now}
            for email in emails])
        ids = session.query(User.id).filter(User.email.like("%@crowd.test")).all()
        session.execute(insert(AccountMembership), [
            {"user_id": user_id, "account_id": account.id, "role": "account_user"}
            for (user_id,) in ids])
    return sorted(emails)


def test_keyset_pages_cover_every_person_exactly_once_in_order(db, crowd):
    root = principal_of(db, "root@x.test")
    pages = _pages(db, root, UserFilter())
    assert [len(page) for page in pages] == [50, 50, 25]  # 123 + the two staff users
    everyone = [email for page in pages for email in page]
    assert everyone == sorted(crowd + ["rep@x.test", "root@x.test"])
    assert len(set(everyone)) == len(everyone)

    # The account rep's reach (client users only), with a filter, pages the same way.
    rep = principal_of(db, "rep@x.test")
    pages = _pages(db, rep, UserFilter(text="person0"))
    found = [email for page in pages for email in page]
    assert [len(page) for page in pages] == [50, 50]
    assert found == [email for email in crowd if email.startswith("person0")]


def test_a_page_ending_exactly_at_the_last_person_has_no_next_page(db, crowd):
    root = principal_of(db, "root@x.test")
    rows, more = user_directory.search(db, root, UserFilter(text="person1"))
    assert (len(rows), more) == (23, False)  # person100..person122
    assert user_directory.next_cursor(rows, more) is None


def test_the_dormant_filter_finds_people_not_signed_in_for_that_many_days(db, make_user):
    make_user("root@x.test", staff=("system_admin",))
    now = clock.now()
    people = {"recent": (now - timedelta(days=3), now - timedelta(days=400)),
              "stale": (now - timedelta(days=45), now - timedelta(days=400)),
              "ancient": (now - timedelta(days=300), now - timedelta(days=400)),
              "never_old": (None, now - timedelta(days=60)),
              "never_new": (None, now - timedelta(days=2))}
    with db.transaction() as session:
        session.execute(insert(User), [
            {"email": f"{key}@x.test", "name": key, "status": "active", "created_at": created,
             "last_login_at": last} for key, (last, created) in people.items()])
    root = principal_of(db, "root@x.test")

    def found(**filters) -> set[str]:
        rows, _ = user_directory.search(db, root, UserFilter(**filters))
        return {row.email.split("@")[0] for row in rows} - {"root"}

    assert found(dormant_days=30) == {"stale", "ancient", "never_old"}
    assert found(dormant_days=90) == {"ancient"}
    assert found(dormant_days=1) == {"recent", "stale", "ancient", "never_old", "never_new"}
    # Beside "never signed in": both together are the accounts never used for that long.
    assert found(dormant_days=30, never_signed_in=True) == {"never_old"}
    assert found(never_signed_in=True) == {"never_old", "never_new"}
    for bad in (0, -5, 100_000):
        with pytest.raises(InvalidInput, match="from 1 to 3,650"):
            found(dormant_days=bad)
