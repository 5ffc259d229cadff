"""The emails the portal sends about accounts. No patient data in any of them.

Links are built from RESULTSDESK_PORTAL_URL, never from the request that caused the email, so
a forged Host header cannot send someone a link to another site.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services import settings
from services.mail import outbox
from services.wording import count, period

_SIGNATURE = "\n\nResultsDesk\nThis is an automatic message; replies are not read.\n"


def _link(path: str, token: str) -> str:
    return f"{settings.current().portal_url}/{path}?token={token}"


def invitation(session: Session, *, to: str, name: str, inviter: str, organisation: str,
               token: str, now: datetime) -> None:
    lifetime = period(settings.current().invitation_lifetime, "hours")
    outbox.enqueue(session, kind="invitation", to_address=to, now=now,
                   subject="Your invitation to ResultsDesk",
                   body=(f"Hello {name},\n\n{inviter} invited you to ResultsDesk for {organisation}.\n\n"
                         f"Set your password and accept the terms of use here:\n"
                         f"{_link('accept-invitation', token)}\n\n"
                         f"The link works once and for {lifetime}. If it has expired, ask your "
                         f"administrator to send a new one.{_SIGNATURE}"))


def role_invitation(session: Session, *, to: str, name: str, inviter: str, role: str,
                    token: str, now: datetime) -> None:
    """The same words whether or not the address has an account: the link's page tells which."""
    lifetime = period(settings.current().invitation_lifetime, "hours")
    outbox.enqueue(session, kind="invitation", to_address=to, now=now,
                   subject="Your invitation to ResultsDesk",
                   body=(f"Hello {name},\n\n{inviter} invited you to ResultsDesk as {role}.\n\n"
                         f"To accept or decline, open:\n{_link('accept-invitation', token)}\n\n"
                         f"If you already have a ResultsDesk account, you sign in with it to "
                         f"accept; otherwise you choose a password there. Nothing changes until "
                         f"you accept. The link works for {lifetime}. If it has expired, ask "
                         f"your administrator to send a new one.{_SIGNATURE}"))


def password_reset(session: Session, *, to: str, name: str, token: str, now: datetime) -> None:
    minutes = int(settings.current().password_reset_lifetime.total_seconds() // 60)
    outbox.enqueue(session, kind="password_reset", to_address=to, now=now,
                   subject="Reset your ResultsDesk password",
                   body=(f"Hello {name},\n\nSomeone asked to reset the password of this "
                         f"ResultsDesk account. To choose a new one, open:\n"
                         f"{_link('reset-password', token)}\n\n"
                         f"The link works once and for {minutes} minutes. If you did not ask, "
                         f"ignore this email: your password stays as it is.{_SIGNATURE}"))


def account_locked(session: Session, *, to: str, name: str, minutes: int, now: datetime) -> None:
    attempts = count(settings.current().failed_attempts_before_lock)
    outbox.enqueue(session, kind="account_locked", to_address=to, now=now,
                   subject="Your ResultsDesk account is locked",
                   body=(f"Hello {name},\n\nYour account was locked after {attempts} unsuccessful "
                         f"sign-in attempts. It unlocks by itself after {minutes} minutes, or "
                         f"support can unlock it sooner. If these attempts were not yours, reset "
                         f"your password with 'Forgot password'.{_SIGNATURE}"))


def account_changed(session: Session, *, to: str, name: str, change: str, now: datetime) -> None:
    outbox.enqueue(session, kind="account_changed", to_address=to, now=now,
                   subject="Your ResultsDesk account changed",
                   body=(f"Hello {name},\n\n{change}\n\nIf you did not expect this, contact "
                         f"support.{_SIGNATURE}"))
