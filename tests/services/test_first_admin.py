"""`make admin`: exactly one first system admin, with a usable password, even when raced."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from db.models import StaffRole, User
from services.errors import InvalidInput
from services.identity import users


def _admins(db) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(StaffRole).where(StaffRole.role == "system_admin"))


def test_a_password_bcrypt_cannot_hash_is_refused_with_a_message(db, fake_clock):
    with pytest.raises(InvalidInput, match="too long"):
        users.create_first_admin(db, email="a@x.test", name="A", password="密" * 25)  # 75 bytes
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_racing_first_admins_make_one(db, fake_clock, monkeypatch, password_hash):
    # A precomputed hash keeps bcrypt from spreading the threads apart before the race.
    monkeypatch.setattr(users.passwords, "hash_password", lambda _password: password_hash)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            users.create_first_admin(db, email=f"root{index}@x.test", name="Root", password="Correct-Horse-77!")
            outcomes.append("created")
        except InvalidInput:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["refused"] * 7
    assert _admins(db) == 1
