"""Accepting an invitation: the invited person sets a password, accepts the terms, then signs in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from db.engine import Database
from db.models import User
from services import audit, clock
from services.errors import InvalidInput
from services.identity import password_policy, passwords, terms, tokens
from services.identity.tokens import InvalidToken
from services.mail import account_emails
from services.statuses import UserStatus
from services.transaction import transaction

EXPIRED = "This invitation link has expired. Ask your administrator to send a new one."
NOT_VALID = "This invitation link is not valid. Ask your administrator for a new invitation."


@dataclass(frozen=True)
class InvitationView:
    email: str
    name: str


def send_invitation(session: Session, *, user: User, inviter_name: str, organisation: str,
                    now: datetime) -> None:
    """Issue a fresh link (the earlier one stops working) and queue the email."""
    raw = tokens.issue(session, user_id=user.id, purpose="invitation", now=now)
    account_emails.invitation(session, to=user.email, name=user.name, inviter=inviter_name,
                              organisation=organisation, token=raw, now=now)


def invitation_for(db: Database, raw_token: str) -> InvitationView:
    """Who the link invites, for the accept screen; InvalidToken (with the message to show)."""
    with transaction(db, write=False) as session:
        try:
            user = tokens.peek(session, raw_token, purpose="invitation", now=clock.now())
        except InvalidToken as invalid:
            raise _worded(invalid) from None
        if user.status != UserStatus.INVITED:
            raise InvalidToken(NOT_VALID)
        return InvitationView(user.email, user.name)


def accept(db: Database, *, raw_token: str, password: str, accept_terms: bool) -> None:
    """Set the password, record the terms, make the account active. No sign-in happens here."""
    if not accept_terms:
        raise InvalidInput("Please read and accept the terms of use.")
    view = invitation_for(db, raw_token)
    password_policy.check(password, email=view.email, name=view.name)
    password_hash = passwords.hash_password(password)
    now = clock.now()
    with transaction(db) as session:
        try:
            user = tokens.redeem(session, raw_token, purpose="invitation", now=now)
        except InvalidToken as invalid:
            raise _worded(invalid) from None
        if user.status != UserStatus.INVITED:
            raise InvalidToken(NOT_VALID)
        user.password_hash, user.status, user.active_since = password_hash, UserStatus.ACTIVE, now
        terms.record_acceptance(session, user, now=now)
        audit.record(session, action="user.invitation_accepted", actor_user_id=user.id,
                     actor_email=user.email, target_type="user", target_id=user.id,
                     details={"terms_version": user.terms_version}, now=now)


def _worded(invalid: InvalidToken) -> InvalidToken:
    return InvalidToken(EXPIRED if invalid.expired else NOT_VALID, expired=invalid.expired)
