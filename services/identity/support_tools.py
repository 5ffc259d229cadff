"""What support does for a person who calls: change their email address (their user ID), switch
their new-result emails on or off, send them a password-reset link, reset their second factor.

Each needs Action.SUPPORT_USERS and reach over the person (services/reach.may_manage_user), and
each is audited. An email change happens only when the person opens the link sent to the new
address; until then nothing about the account changes.

Two accounts never share an address: a change is refused when the address is taken, both when
it is asked for and when it is confirmed, and the unique constraint on users.email settles two
confirmations racing for one address (exactly one wins; the other is refused and writes
nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import AuditEvent, Token, User
from services import audit, clock, reach, settings
from services.errors import InvalidInput
from services.identity import password_reset, sessions, tokens, two_factor
from services.identity.tokens import InvalidToken
from services.mail import account_emails, addresses
from services.policy import Action
from services.principals import Principal
from services.statuses import UserStatus
from services.transaction import transaction
from services.wording import count

TAKEN = "Another account already uses that email address. Two accounts cannot share one."
TAKEN_AT_CONFIRMATION = ("Another account uses that email address now, so it cannot become "
                         "yours. Nothing was changed; ask support for help.")
_SIGNS_IN = (UserStatus.ACTIVE, UserStatus.LOCKED)


@dataclass(frozen=True)
class SupportState:
    """What the support tools show about one person."""

    result_notices: bool
    pending_email: str | None  # an address waiting for confirmation
    pending_until: datetime | None
    second_factor: bool  # an authenticator app is set up for sign-in


@dataclass(frozen=True)
class EmailChange:
    """What the confirmation page shows before the person confirms."""

    old_email: str
    new_email: str
    expires_at: datetime


def _person(session: Session, principal: Principal, user_id: int) -> User:
    principal.require(Action.SUPPORT_USERS, target_type="user", target_id=user_id)
    user = session.get(User, user_id)
    # An unknown id is refused like an out-of-scope one, so ids cannot be probed.
    if user is None or not reach.may_manage_user(principal, reach.of_user(session, user_id)):
        raise principal.denied(Action.SUPPORT_USERS, target_type="user", target_id=user_id)
    return user


def address_taken(session: Session, address: str, *, by_other_than: int) -> bool:
    """Whether another account uses the address (the unique constraint has the last word)."""
    return session.scalar(select(User.id).where(User.email == address,
                                                User.id != by_other_than)) is not None


def state(db: Database, principal: Principal, *, user_id: int) -> SupportState:
    now = clock.now()
    with transaction(db, write=False) as session:
        user = _person(session, principal, user_id)
        pending = session.scalar(select(Token).where(
            Token.user_id == user.id, Token.purpose == "email_change", Token.used_at.is_(None),
            Token.expires_at > now).order_by(Token.id.desc()).limit(1))
        return SupportState(bool(user.notify_new_results),
                            None if pending is None else pending.new_email,
                            None if pending is None else pending.expires_at,
                            two_factor.enrolled(session, user.id))


def request_email_change(db: Database, principal: Principal, *, user_id: int, new_email: str,
                         repeated: str) -> str:
    """Send a confirmation link to the new address and a notice to the old one; returns the new
    address (normalised). The address changes only when the person opens the link."""
    now = clock.now()
    with transaction(db) as session:
        user = _person(session, principal, user_id)
        address = addresses.checked(new_email)
        if addresses.normalise(repeated) != address:
            raise InvalidInput("The two email addresses differ: type the new address twice, "
                               "the same way.")
        if address == user.email:
            raise InvalidInput("That is already this person's email address.")
        if user.status not in _SIGNS_IN:
            raise InvalidInput(
                "Only an account that can sign in changes its address this way. For an "
                "invitation nobody accepted yet, delete it and invite the new address; a "
                "deactivated account is reactivated first.")
        if address_taken(session, address, by_other_than=user.id):
            raise InvalidInput(TAKEN)
        token = tokens.issue(session, user_id=user.id, purpose="email_change", now=now,
                             new_email=address)
        account_emails.email_change_link(session, to=address, name=user.name, token=token, now=now)
        account_emails.email_change_requested(session, to=user.email, name=user.name, now=now)
        audit.record(session, action="user.email_change_requested",
                     actor_user_id=principal.user_id, actor_email=principal.email,
                     target_type="user", target_id=user.id,
                     details={"old_email": user.email, "new_email": address}, now=now)
        return address


def pending_change(db: Database, *, raw_token: str) -> EmailChange:
    """The change a link would confirm (InvalidToken when it cannot be used). Changes nothing."""
    now = clock.now()
    with transaction(db, write=False) as session:
        token = tokens.find(session, raw_token, purpose="email_change", now=now)
        user = session.get(User, token.user_id)
        if user.status not in _SIGNS_IN:
            raise InvalidToken()
        return EmailChange(user.email, token.new_email, token.expires_at)


def confirm_email_change(db: Database, *, raw_token: str) -> str:
    """Make the link's address the account's email: every session ends, earlier reset links die,
    the old address is told. Returns the new address. Nobody is signed in by it."""
    now = clock.now()
    try:
        with transaction(db) as session:
            token = tokens.find(session, raw_token, purpose="email_change", now=now)
            user = tokens.redeem(session, raw_token, purpose="email_change", now=now)
            if user.status not in _SIGNS_IN:
                raise InvalidToken()
            old, new = user.email, token.new_email
            if address_taken(session, new, by_other_than=user.id):
                raise InvalidInput(TAKEN_AT_CONFIRMATION)
            user.email = new
            session.flush()  # the unique constraint decides a race here
            tokens.kill_all(session, user_id=user.id, purpose="password_reset", now=now)
            tokens.kill_all(session, user_id=user.id, purpose="email_change", now=now)
            ended = sessions.end_all_for_user(session, user_id=user.id, reason="email_changed",
                                              now=now)
            account_emails.account_changed(
                session, to=old, name=user.name, now=now,
                change="The email address (user ID) of your ResultsDesk account was changed "
                       "and confirmed from the new address. This address no longer signs in.")
            audit.record(session, action="user.email_changed", actor_user_id=user.id,
                         actor_email=new, target_type="user", target_id=user.id,
                         details={"old_email": old, "new_email": new, "sessions_ended": ended},
                         now=now)
            return new
    except IntegrityError:
        # Another account took the address between the check and this write: everything above
        # was rolled back, the link included.
        raise InvalidInput(TAKEN_AT_CONFIRMATION) from None


def set_result_notices(db: Database, principal: Principal, *, user_id: int, enabled: bool) -> str:
    """Switch a person's new-result emails on or off on their behalf; they are told by email.
    Returns what the state is now, in words."""
    now = clock.now()
    with transaction(db) as session:
        user = _person(session, principal, user_id)
        if user.notify_new_results == enabled:
            return f"already {'on' if enabled else 'off'}"
        user.notify_new_results = enabled
        # Counting starts now: switching on never mails about results from before.
        user.results_notified_at = now
        audit.record(session, action="notices.changed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"new_results": enabled, "by": "support"}, now=now)
        account_emails.account_changed(
            session, to=user.email, name=user.name, now=now,
            change=f"Support turned {'on' if enabled else 'off'} the emails that tell you about "
                   "new reports. You can change this yourself on the My account page.")
        return f"now {'on' if enabled else 'off'}"


def send_reset_link(db: Database, principal: Principal, *, user_id: int) -> datetime:
    """Email the person the same reset link 'Forgot password' sends; returns when it expires."""
    now = clock.now()
    with transaction(db) as session:
        user = _person(session, principal, user_id)
        if user.status not in _SIGNS_IN:
            raise InvalidInput("This account cannot sign in (invited or deactivated), so it has "
                               "no password to reset.")
        recent = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "password.reset_requested", AuditEvent.target_id == str(user.id),
            AuditEvent.occurred_at > now - timedelta(hours=1)))
        if recent >= password_reset.RESETS_PER_HOUR:
            raise InvalidInput(f"{count(password_reset.RESETS_PER_HOUR).capitalize()} reset "
                               "links went to this person in the last hour: ask them to use "
                               "the newest one, or try again later.")
        password_reset.send_link(session, user=user, now=now)
        audit.record(session, action="password.reset_requested", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"by": "support"}, now=now)
        return now + settings.current().password_reset_lifetime


def reset_second_factor(db: Database, principal: Principal, *, user_id: int) -> None:
    """For a lost phone without recovery codes: the person's app and codes stop working, they
    are told by email, and (if their role requires it) they set up an app again at next sign-in.
    Their open sessions end, since whoever holds the phone may be signed in."""
    now = clock.now()
    with transaction(db) as session:
        user = _person(session, principal, user_id)
        if user.id == principal.user_id:
            raise InvalidInput("Ask another support representative to reset your own second factor.")
        had = two_factor.remove(session, user.id)
        if not had:
            raise InvalidInput("This person has no two-factor sign-in to reset.")
        ended = sessions.end_all_for_user(session, user_id=user.id, now=now, reason="second_factor_reset")
        audit.record(session, action="two_factor.reset", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=user.id,
                     details={"sessions_ended": ended}, now=now)
        account_emails.second_factor_reset(session, to=user.email, name=user.name, now=now)
