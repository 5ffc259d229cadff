"""An account representative adds an employer's user to another account."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Account, AccountMembership, User
from tests.pages.conftest import open_screen, sign_in, titles


def _offered(app, keys: str) -> set[str]:
    """The accounts "Add to account" offers, by name (each label ends with its kind and size)."""
    return {label.rsplit(" (", 1)[0] for label in app.selectbox(key=f"ca_target_{keys}").options}


def test_account_rep_adds_a_user_to_another_account(app, demo_db, fake_clock_app):
    sign_in(app, "accounts@demo.test")
    open_screen(app, "client-accounts")
    assert titles(app) == ["Client accounts"]
    with demo_db.transaction(write=False) as session:
        ids = dict(session.execute(select(Account.name, Account.id)).all())
    app.selectbox(key="ca_account").select(ids["Harborline Freight Co."]).run()
    grid = app.dataframe[0].value
    assert list(grid["Email"]) == ["employer@demo.test"]
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": [0]}}
    app.run()
    with demo_db.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.email == "employer@demo.test"))
    keys = f"{ids['Harborline Freight Co.']}_{user_id}"
    assert _offered(app, keys) >= {"Cedar Ridge Fabrication"}
    assert "Harborline Freight Co." not in _offered(app, keys)
    app.selectbox(key=f"ca_target_{keys}").select(ids["Cedar Ridge Fabrication"]).run()
    # No role is chosen for the representative: Add waits for one.
    assert app.selectbox(key=f"ca_role_{keys}").value is None
    assert app.button(key=f"ca_add_{keys}").disabled
    app.selectbox(key=f"ca_role_{keys}").select("account_user").run()
    app.button(key=f"ca_add_{keys}").click().run()
    assert [s.value for s in app.success] == ["Added to the account."]
    with demo_db.transaction(write=False) as session:
        held = session.scalars(select(AccountMembership.account_id)
                               .where(AccountMembership.user_id == user_id)).all()
    assert len(held) == 2
    # The account just given is not offered again, and the role starts empty again.
    assert not {"Cedar Ridge Fabrication", "Harborline Freight Co."} & _offered(app, keys)
    assert app.selectbox(key=f"ca_role_{keys}").value is None
