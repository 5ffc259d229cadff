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


def dormant_warning(session: Session, *, to: str, name: str, days: int, now: datetime) -> None:
    """Nobody has signed in to this account for a long time: it closes unless someone does."""
    outbox.enqueue(session, kind="dormant_warning", to_address=to, now=now,
                   subject="Your ResultsDesk account will be deactivated",
                   body=(f"Hello {name},\n\nNobody has signed in to your ResultsDesk account "
                         f"for a long time. Unused accounts are deactivated: unless you sign in "
                         f"within the next {count(days)} days, yours will be.\n\n"
                         f"To keep it, sign in at {settings.current().portal_url}\n\n"
                         f"If you no longer need it, do nothing.{_SIGNATURE}"))


def dormant_deactivated(session: Session, *, to: str, name: str, now: datetime) -> None:
    outbox.enqueue(session, kind="account_changed", to_address=to, now=now,
                   subject="Your ResultsDesk account was deactivated",
                   body=(f"Hello {name},\n\nYour ResultsDesk account was deactivated because "
                         f"nobody had signed in to it for a long time. If you still need it, ask "
                         f"your administrator or support to reactivate it.{_SIGNATURE}"))


def email_change_link(session: Session, *, to: str, name: str, token: str, now: datetime) -> None:
    """To the new address: the link that confirms it (the change happens only then)."""
    lifetime = period(settings.current().email_change_lifetime, "hours")
    outbox.enqueue(session, kind="email_change", to_address=to, now=now,
                   subject="Confirm your new ResultsDesk email address",
                   body=(f"Hello {name},\n\nSupport was asked to make this address the email "
                         f"address (the user ID) of your ResultsDesk account. To confirm it, "
                         f"open:\n{_link('confirm-email', token)}\n\n"
                         f"The link works once and for {lifetime}. When you confirm, you are "
                         f"signed out everywhere and sign in with this address from then on. If "
                         f"you did not ask for this, ignore this email: nothing changes."
                         f"{_SIGNATURE}"))


def email_change_requested(session: Session, *, to: str, name: str, now: datetime) -> None:
    """To the old address: a change was asked for (the new address is not named)."""
    lifetime = period(settings.current().email_change_lifetime, "hours")
    outbox.enqueue(session, kind="account_changed", to_address=to, now=now,
                   subject="A change of your ResultsDesk email address was requested",
                   body=(f"Hello {name},\n\nSupport was asked to change the email address (the "
                         f"user ID) of your ResultsDesk account. A confirmation link went to the "
                         f"new address; nothing changes unless it is opened within {lifetime}. "
                         f"Until then you sign in with this address as before.\n\nIf you did not "
                         f"ask for this, contact support at once.{_SIGNATURE}"))


def recovery_code_used(session: Session, *, to: str, name: str, left: int, now: datetime) -> None:
    remaining = f"{count(left)} recovery {'code is' if left == 1 else 'codes are'} left"
    outbox.enqueue(session, kind="account_changed", to_address=to, now=now,
                   subject="A recovery code was used to sign in to ResultsDesk",
                   body=(f"Hello {name},\n\nSomeone signed in to your account with one of your "
                         f"recovery codes; {remaining}. If you lost your phone, make new codes "
                         f"and set up your authenticator app again on the My account page. If it "
                         f"was not you, call support at once.{_SIGNATURE}"))


def second_factor_reset(session: Session, *, to: str, name: str, now: datetime) -> None:
    outbox.enqueue(session, kind="account_changed", to_address=to, now=now,
                   subject="Your ResultsDesk two-factor sign-in was reset",
                   body=(f"Hello {name},\n\nSupport reset the two-factor sign-in of your account: "
                         f"your authenticator app and recovery codes no longer work for it. If "
                         f"your role requires two-factor sign-in, you set up your app again the "
                         f"next time you sign in. If you did not ask for this, call support at "
                         f"once.{_SIGNATURE}"))
