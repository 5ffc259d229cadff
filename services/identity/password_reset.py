"""Forgot password, reset by emailed link, and changing one's own password.

Asking for a reset answers the same whether or not the email has an account, and sends an
email only when it does. Completing a reset unlocks the account and ends every session; nobody
is signed in by it. A password change, either way, kills every outstanding reset link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import AuditEvent, User
from services import audit, clock, settings
from services.errors import InvalidInput
from services.identity import password_policy, passwords, sessions, tokens
from services.identity.tokens import InvalidToken
from services.mail import account_emails, addresses
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction
from services.wording import period

RESETS_PER_HOUR = 3
SENT = ("If an account uses that email address, a link to reset its password is on its way. "
        f"It works for {period(settings.PASSWORD_RESET_LIFETIME, 'hours', spelled=True)}.")


def request_reset(db: Database, *, email: str) -> str:
    """Send a reset link if the address has an account; always the same answer (SENT)."""
    now = clock.now()
    with transaction(db) as session:
        # The row lock makes racing requests for one account take turns (PostgreSQL; SQLite's
        # write transactions already do), so each one counts the emails sent before it.
        user = session.scalar(select(User).where(User.email == addresses.normalise(email))
                              .with_for_update())
        if user is None or user.status not in (UserStatus.ACTIVE, UserStatus.LOCKED):
            return SENT  # nothing recorded: the typed text may be a password in the wrong field
        recent = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "password.reset_requested", AuditEvent.target_id == str(user.id),
            AuditEvent.occurred_at > now - timedelta(hours=1)))
        if recent >= RESETS_PER_HOUR:
            audit.record(session, action="password.reset_throttled", target_type="user",
                         target_id=user.id, now=now)
            return SENT
        send_link(session, user=user, now=now)
        audit.record(session, action="password.reset_requested", target_type="user",
                     target_id=user.id, now=now)
    return SENT


def send_link(session: Session, *, user: User, now: datetime) -> None:
    """Issue a reset link (earlier ones stop working) and email it: for Forgot password and for
    support's 'Send a password-reset link' alike."""
    raw = tokens.issue(session, user_id=user.id, purpose="password_reset", now=now)
    account_emails.password_reset(session, to=user.email, name=user.name, token=raw, now=now)


def reset_password(db: Database, *, raw_token: str, password: str) -> None:
    """Set a new password from a reset link: unlocks, ends every session, signs nobody in."""
    now = clock.now()
    with transaction(db, write=False) as session:
        user = tokens.peek(session, raw_token, purpose="password_reset", now=now)
        password_policy.check(password, email=user.email, name=user.name)
    password_hash = passwords.hash_password(password)
    with transaction(db) as session:
        user = tokens.redeem(session, raw_token, purpose="password_reset", now=now)
        if user.status not in (UserStatus.ACTIVE, UserStatus.LOCKED):
            raise InvalidToken()
        user.password_hash = password_hash
        user.status, user.failed_attempts, user.locked_until = UserStatus.ACTIVE, 0, None
        tokens.kill_all(session, user_id=user.id, purpose="password_reset", now=now)
        ended = sessions.end_all_for_user(session, user_id=user.id, reason="password_reset", now=now)
        account_emails.account_changed(session, to=user.email, name=user.name, now=now,
                                       change="Your password was reset.")
        audit.record(session, action="password.reset", actor_user_id=user.id,
                     actor_email=user.email, target_type="user", target_id=user.id,
                     details={"sessions_ended": ended}, now=now)


def change_password(db: Database, principal: Principal, *, current: str, new: str) -> None:
    """Change one's own password; other sessions end, this one stays."""
    now = clock.now()
    with transaction(db, write=False) as session:
        user = session.get(User, principal.user_id)
        if not passwords.verify_password(current, user.password_hash):
            raise InvalidInput("The current password is not correct.")
        password_policy.check(new, email=user.email, name=user.name)
    password_hash = passwords.hash_password(new)
    with transaction(db) as session:
        user = session.get(User, principal.user_id)
        user.password_hash = password_hash
        tokens.kill_all(session, user_id=user.id, purpose="password_reset", now=now)
        ended = sessions.end_all_for_user(session, user_id=user.id, reason="password_changed",
                                          now=now, keep_session_id=principal.session_id)
        account_emails.account_changed(session, to=user.email, name=user.name, now=now,
                                       change="Your password was changed.")
        audit.record(session, action="password.changed", actor_user_id=user.id,
                     actor_email=user.email, target_type="user", target_id=user.id,
                     details={"other_sessions_ended": ended}, now=now)
