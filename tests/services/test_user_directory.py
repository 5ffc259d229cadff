"""The Users screen's search: each admin finds exactly the people they reach, and filters narrow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Account, Provider, ProviderGroup, Token, User
from services import clock, principals
from services.errors import PermissionDenied
from services.identity import user_directory
from services.identity.user_directory import UserFilter
from services.policy import Role


@pytest.fixture
def town(db, make_user):
    now = clock.now()
    with db.transaction() as session:
        g1 = ProviderGroup(name="North Clinics", npi="1000000004", created_at=now)
        g2 = ProviderGroup(name="South Clinics", npi="1000000012", created_at=now)
        acme = Account(name="Acme Freight", kind="employer", created_at=now)
        session.add_all([g1, g2, acme])
        session.flush()
        p1 = Provider(group_id=g1.id, name="North Main", npi="1000000020")
        session.add(p1)
        session.flush()
        ids = {"g1": g1.id, "g2": g2.id, "acme": acme.id, "p1": p1.id}
    users = {
        "root": make_user("root@example.test", staff=("system_admin",)),
        "support": make_user("support@example.test", staff=("support_rep",)),
        "accounts": make_user("accounts@example.test", staff=("account_rep",)),
        "north_admin": make_user("north.admin@example.test", name="Nora North",
                                 provider=((ids["g1"], None, "provider_group_admin"),)),
        "north_staff": make_user("north.staff@example.test", name="Ned Staff",
                                 provider=((ids["g1"], ids["p1"], "provider_staff"),)),
        "south_admin": make_user("south.admin@example.test",
                                 provider=((ids["g2"], None, "provider_group_admin"),)),
        "acme_user": make_user("erin@acme.example", name="Erin Ellis",
                               accounts=((ids["acme"], "account_user"),)),
        "invited": make_user("new.hire@example.test", status="invited",
                             provider=((ids["g1"], ids["p1"], "provider_staff"),)),
        "lapsed": make_user("lapsed@example.test", status="invited",
                            provider=((ids["g1"], ids["p1"], "provider_staff"),)),
    }
    with db.transaction() as session:
        for key, expires in (("invited", now + timedelta(hours=10)),
                             ("lapsed", now - timedelta(hours=1))):
            session.add(Token(user_id=users[key], purpose="invitation", token_hash=f"{key:0<64}",
                              created_at=now - timedelta(hours=40), expires_at=expires))
        session.get(User, users["north_staff"]).last_login_at = now - timedelta(days=2)
    return ids, users


def _emails(db, user_id, **filters) -> set[str]:
    with db.transaction(write=False) as session:
        principal = principals.load(session, session.get(User, user_id))
    rows, more = user_directory.search(db, principal, UserFilter(**filters))
    assert not more
    return {row.email for row in rows}


def test_each_admin_finds_exactly_the_people_they_reach(db, town):
    _, users = town
    everyone = {"root@example.test", "support@example.test", "accounts@example.test",
                "north.admin@example.test", "north.staff@example.test", "south.admin@example.test",
                "erin@acme.example", "new.hire@example.test", "lapsed@example.test"}
    north = {"north.admin@example.test", "north.staff@example.test", "new.hire@example.test",
             "lapsed@example.test"}
    assert _emails(db, users["root"]) == everyone
    assert _emails(db, users["support"]) == everyone - {
        "root@example.test", "support@example.test", "accounts@example.test"}
    assert _emails(db, users["accounts"]) == {"erin@acme.example"}
    assert _emails(db, users["north_admin"]) == north
    assert _emails(db, users["south_admin"]) == {"south.admin@example.test"}


def test_people_without_the_users_action_are_refused(db, town):
    _, users = town
    with db.transaction(write=False) as session:
        staff = principals.load(session, session.get(User, users["north_staff"]))
    with pytest.raises(PermissionDenied):
        user_directory.search(db, staff, UserFilter())


def test_filters_narrow(db, town):
    ids, users = town
    admin = users["support"]
    assert _emails(db, admin, text="ERIN") == {"erin@acme.example"}
    assert _emails(db, admin, text="nora") == {"north.admin@example.test"}
    assert _emails(db, admin, status="invited") == {"new.hire@example.test", "lapsed@example.test"}
    assert _emails(db, admin, role=Role.PROVIDER_GROUP_ADMIN) == {
        "north.admin@example.test", "south.admin@example.test"}
    assert _emails(db, admin, group_id=ids["g2"]) == {"south.admin@example.test"}
    assert _emails(db, admin, account_id=ids["acme"]) == {"erin@acme.example"}
    assert _emails(db, admin, invitation="pending") == {"new.hire@example.test"}
    assert _emails(db, admin, invitation="expired") == {"lapsed@example.test"}
    assert _emails(db, admin, signed_in_since=clock.now() - timedelta(days=3)) == {
        "north.staff@example.test"}


def test_rows_say_roles_and_invitation_state(db, town):
    _, users = town
    with db.transaction(write=False) as session:
        principal = principals.load(session, session.get(User, users["north_admin"]))
    rows, _ = user_directory.search(db, principal, UserFilter(status="invited"))
    assert [(r.email, r.invitation, r.roles) for r in rows] == [
        ("lapsed@example.test", "expired", ("provider_staff",)),
        ("new.hire@example.test", "pending", ("provider_staff",)),
    ]


def test_pages_of_fifty_by_email(db, make_user, town, monkeypatch):
    _, users = town
    monkeypatch.setattr(user_directory, "PAGE_SIZE", 4)
    with db.transaction(write=False) as session:
        principal = principals.load(session, session.get(User, users["root"]))
        total = len(session.scalars(select(User.id)).all())
    seen, after = [], None
    while True:
        rows, more = user_directory.search(db, principal, UserFilter(), after_email=after)
        seen += [r.email for r in rows]
        if not more:
            break
        after = rows[-1].email
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == total
