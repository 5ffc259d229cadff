"""Users, what they may do (staff roles, provider and account memberships) and how they sign in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

USER_STATUSES = ("invited", "active", "locked", "deactivated")
STAFF_ROLES = ("system_admin", "support_rep", "account_rep", "privacy_officer", "manager")
PROVIDER_ROLES = ("provider_group_admin", "provider_admin", "provider_staff")
ACCOUNT_ROLES = ("account_admin", "account_user")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    """A person who signs in; the email address is the user id (stored lower-case)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("status", USER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terms_version: Mapped[str | None] = mapped_column(String(20))
    notify_new_results: Mapped[bool] = mapped_column(Boolean, default=False)
    # Reports posted after this moment count as new for the next new-results notice.
    results_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    phone: Mapped[str] = mapped_column(String(40), default="")
    # IANA name ("America/Chicago"); empty until the first sign-in reads the browser's zone.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the account last became usable (invitation accepted, reactivated by an admin): the
    # dormant-account limit counts from the latest of this, the last sign-in and creation.
    active_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the holder was told the account would be deactivated for disuse; a warning from
    # before the latest sign-in or reactivation no longer counts (dormant_accounts.py).
    dormant_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffRole(Base):
    """A global staff role held by a user."""

    __tablename__ = "staff_roles"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class Membership(Base):
    """A user's role in a provider group; provider_id narrows it to one provider.

    A group admin's membership has no provider (it covers the whole group); provider admins
    and staff are tied to one provider each.
    """

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(_in("role", PROVIDER_ROLES), name="role"),
        CheckConstraint(
            "(role = 'provider_group_admin' AND provider_id IS NULL)"
            " OR (role <> 'provider_group_admin' AND provider_id IS NOT NULL)",
            name="provider_matches_role",
        ),
        UniqueConstraint("user_id", "group_id", "provider_id"),
        Index("ix_memberships_group_role", "group_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("provider_groups.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    role: Mapped[str] = mapped_column(String(32))


class AccountMembership(Base):
    """A user's association with a client account (employer, payor or TPA)."""

    __tablename__ = "account_memberships"
    __table_args__ = (CheckConstraint(_in("role", ACCOUNT_ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32))


class LoginSession(Base):
    """A server-side sign-in session; the browser holds only the token, the table its hash."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # Permission refusals in the current one-minute window (services.probing).
    refusals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refusals_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_sessions_user_open", "user_id", "ended_at"),)


class SessionHandoff(Base):
    """A one-time code that lets the browser collect its session cookie; stored only as a hash."""

    __tablename__ = "session_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """One failed sign-in from a client address, for the per-address limit."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_address_time", "address", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Token(Base):
    """A single-use emailed token (invitation, password reset), stored only as a hash."""

    __tablename__ = "tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('invitation', 'password_reset', 'email_change')", name="purpose"),
        Index("ix_tokens_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # email_change only: the address the person confirms by following the link sent to it.
    new_email: Mapped[str | None] = mapped_column(String(254))


INVITATION_STATUSES = ("pending", "accepted", "declined", "cancelled")


class RoleInvitation(Base):
    """An offer of one role at one place, sent to an email address; nothing is given until the
    person accepts. The same row whether or not the address already has an account, so the
    inviting admin learns nothing about it. The link's token is stored only as its SHA-256."""

    __tablename__ = "role_invitations"
    __table_args__ = (
        CheckConstraint(_in("status", INVITATION_STATUSES), name="status"),
        CheckConstraint(_in("role", STAFF_ROLES + PROVIDER_ROLES + ACCOUNT_ROLES), name="role"),
        Index("ix_role_invitations_status_email", "status", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))  # as the inviter typed it
    phone: Mapped[str] = mapped_column(String(40), default="")
    role: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("provider_groups.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    inviter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    inviter_name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who accepted (set only on acceptance; never shown to the inviting admin before that).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
