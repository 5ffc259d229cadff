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


def _send(session: Session, *, kind: str, to: str, name: str, subject: str, text: str,
          now: datetime) -> None:
    """Queue one email: the greeting, the text, the signature (the outbox adds the contacts)."""
    outbox.enqueue(session, kind=kind, to_address=to, now=now, subject=subject,
                   body=f"Hello {name},\n\n{text}{_SIGNATURE}")


def invitation(session: Session, *, to: str, name: str, inviter: str, organisation: str,
               token: str, now: datetime) -> None:
    lifetime = period(settings.current().invitation_lifetime, "hours")
    _send(session, kind="invitation", to=to, name=name, now=now,
          subject="Your invitation to ResultsDesk",
          text=(f"{inviter} invited you to ResultsDesk for {organisation}.\n\n"
                f"Set your password and accept the terms of use here:\n"
                f"{_link('accept-invitation', token)}\n\n"
                f"The link works once and for {lifetime}. If it has expired, ask your "
                f"administrator to send a new one."))


def role_invitation(session: Session, *, to: str, name: str, inviter: str, role: str,
                    token: str, now: datetime) -> None:
    """The same words whether or not the address has an account: the link's page tells which."""
    lifetime = period(settings.current().invitation_lifetime, "hours")
    _send(session, kind="invitation", to=to, name=name, now=now,
          subject="Your invitation to ResultsDesk",
          text=(f"{inviter} invited you to ResultsDesk as {role}.\n\n"
                f"To accept or decline, open:\n{_link('accept-invitation', token)}\n\n"
                f"If you already have a ResultsDesk account, you sign in with it to "
                f"accept; otherwise you choose a password there. Nothing changes until "
                f"you accept. The link works for {lifetime}. If it has expired, ask "
                f"your administrator to send a new one."))


def password_reset(session: Session, *, to: str, name: str, token: str, now: datetime) -> None:
    minutes = int(settings.current().password_reset_lifetime.total_seconds() // 60)
    _send(session, kind="password_reset", to=to, name=name, now=now,
          subject="Reset your ResultsDesk password",
          text=(f"Someone asked to reset the password of this "
                f"ResultsDesk account. To choose a new one, open:\n"
                f"{_link('reset-password', token)}\n\n"
                f"The link works once and for {minutes} minutes. If you did not ask, "
                f"ignore this email: your password stays as it is."))


def account_locked(session: Session, *, to: str, name: str, minutes: int, now: datetime) -> None:
    attempts = count(settings.current().failed_attempts_before_lock)
    _send(session, kind="account_locked", to=to, name=name, now=now,
          subject="Your ResultsDesk account is locked",
          text=(f"Your account was locked after {attempts} unsuccessful "
                f"sign-in attempts. It unlocks by itself after {minutes} minutes, or "
                f"support can unlock it sooner. If these attempts were not yours, reset "
                f"your password with 'Forgot password'."))


def account_changed(session: Session, *, to: str, name: str, change: str, now: datetime) -> None:
    _send(session, kind="account_changed", to=to, name=name, now=now,
          subject="Your ResultsDesk account changed",
          text=(f"{change}\n\nIf you did not expect this, contact "
                f"support."))


def dormant_warning(session: Session, *, to: str, name: str, days: int, now: datetime) -> None:
    """Nobody has signed in to this account for a long time: it closes unless someone does."""
    _send(session, kind="dormant_warning", to=to, name=name, now=now,
          subject="Your ResultsDesk account will be deactivated",
          text=(f"Nobody has signed in to your ResultsDesk account "
                f"for a long time. Unused accounts are deactivated: unless you sign in "
                f"within the next {count(days)} days, yours will be.\n\n"
                f"To keep it, sign in at {settings.current().portal_url}\n\n"
                f"If you no longer need it, do nothing."))


def dormant_deactivated(session: Session, *, to: str, name: str, now: datetime) -> None:
    _send(session, kind="account_changed", to=to, name=name, now=now,
          subject="Your ResultsDesk account was deactivated",
          text=("Your ResultsDesk account was deactivated because "
                "nobody had signed in to it for a long time. If you still need it, ask "
                "your administrator or support to reactivate it."))


def email_change_link(session: Session, *, to: str, name: str, token: str, now: datetime) -> None:
    """To the new address: the link that confirms it (the change happens only then)."""
    lifetime = period(settings.current().email_change_lifetime, "hours")
    _send(session, kind="email_change", to=to, name=name, now=now,
          subject="Confirm your new ResultsDesk email address",
          text=(f"Support was asked to make this address the email "
                f"address (the user ID) of your ResultsDesk account. To confirm it, "
                f"open:\n{_link('confirm-email', token)}\n\n"
                f"The link works once and for {lifetime}. When you confirm, you are "
                f"signed out everywhere and sign in with this address from then on. If "
                f"you did not ask for this, ignore this email: nothing changes."))


def email_change_requested(session: Session, *, to: str, name: str, now: datetime) -> None:
    """To the old address: a change was asked for (the new address is not named)."""
    lifetime = period(settings.current().email_change_lifetime, "hours")
    _send(session, kind="account_changed", to=to, name=name, now=now,
          subject="A change of your ResultsDesk email address was requested",
          text=(f"Support was asked to change the email address (the "
                f"user ID) of your ResultsDesk account. A confirmation link went to the "
                f"new address; nothing changes unless it is opened within {lifetime}. "
                f"Until then you sign in with this address as before.\n\nIf you did not "
                f"ask for this, contact support at once."))


def recovery_code_used(session: Session, *, to: str, name: str, left: int, now: datetime) -> None:
    remaining = f"{count(left)} recovery {'code is' if left == 1 else 'codes are'} left"
    _send(session, kind="account_changed", to=to, name=name, now=now,
          subject="A recovery code was used to sign in to ResultsDesk",
          text=(f"Someone signed in to your account with one of your "
                f"recovery codes; {remaining}. If you lost your phone, make new codes "
                f"and set up your authenticator app again on the My account page. If it "
                f"was not you, call support at once."))


def second_factor_reset(session: Session, *, to: str, name: str, now: datetime) -> None:
    _send(session, kind="account_changed", to=to, name=name, now=now,
          subject="Your ResultsDesk two-factor sign-in was reset",
          text=("Support reset the two-factor sign-in of your account: "
                "your authenticator app and recovery codes no longer work for it. If "
                "your role requires two-factor sign-in, you set up your app again the "
                "next time you sign in. If you did not ask for this, call support at "
                "once."))
