"""The second factor of sign-in: an authenticator app's secret, recovery codes, and the step
between a correct password and the code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

CHALLENGE_STEPS = ("code", "enrol", "enrolled")


class SecondFactor(Base):
    """A person's authenticator-app (TOTP) secret; confirmed once they typed a code from it."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))  # base32, as the app holds it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The 30-second step of the last code accepted: a code is good once (no replay).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """One single-use recovery code, stored only as its SHA-256."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInChallenge(Base):
    """The password was right; the code is still to come. Held by one browser tab as a random
    secret (stored hashed), short-lived and single use.

    step: "code" asks for a code or recovery code; "enrol" sets up the app first; "enrolled"
    shows the new recovery codes once before the session opens."""

    __tablename__ = "sign_in_challenges"
    __table_args__ = (
        CheckConstraint("step IN ('code', 'enrol', 'enrolled')", name="step"),
        Index("ix_sign_in_challenges_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    step: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
