"""Staff sign-in through the company's OpenID provider: who the provider's answer lets in.

The page hands over the claims Streamlit keeps from the provider's ID token (st.user); the
issuer, audience, signature and expiry were checked by Authlib when the browser came back.
Here the portal decides:

- The answer must be fresh and used once. Streamlit keeps the identity in a cookie for 30
  days; only a return from the provider in the last few minutes that has not opened (or been
  refused) before may open a session, so the cookie alone never signs anyone back in after
  sign-out, a timeout or "sign out everywhere".
- The email must be verified by the provider (email_verified true; from a provider that never
  sends it, Entra ID's xms_edov true) and belong to an active
  ResultsDesk account that holds a staff role. Roles come only from ResultsDesk: nothing the
  provider says creates or changes one. Every refusal looks the same from outside and is
  audited with its reason.

A staff member signed in this way is not asked for ResultsDesk's second factor: their
provider asks for its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from db.engine import Database
from db.models import IdentityProviderReturn, StaffRole, User
from services import audit, clock
from services.errors import StaffSignInRefused
from services.identity.auth import SignedIn, open_session
from services.mail import addresses
from services.statuses import UserStatus
from services.transaction import transaction

# How long after the provider issued its ID token the answer may open a session: the browser
# comes straight back, so a few minutes cover a slow network and clocks a little apart.
FRESH_FOR = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=2)
# Used returns are kept while they could still be fresh, and a while longer.
_KEEP_USED = timedelta(hours=1)
METHOD = "identity_provider"


def sign_in(db: Database, *, claims: Mapping[str, object], now: datetime | None = None) -> SignedIn | None:
    """Open a session for a fresh provider answer that names an active staff account.

    None when the claims are not a fresh, unused answer (nothing to do: an identity cookie
    kept from earlier). StaffSignInRefused, audited, for every answer that may not sign in.
    """
    now = now or clock.now()
    fingerprint = _fresh_fingerprint(claims, now)
    if fingerprint is None:
        return None
    with transaction(db, write=False) as session:
        if _used(session, fingerprint):
            return None
    refused = False
    try:
        with transaction(db) as session:
            session.execute(delete(IdentityProviderReturn).where(IdentityProviderReturn.used_at < now - _KEEP_USED))
            session.add(IdentityProviderReturn(fingerprint=fingerprint, used_at=now))
            session.flush()  # a parallel run that used this answer first stops this one here
            user = _let_in(session, claims, now)
            if user is None:
                refused = True
            else:
                signed_in = open_session(session, user, now=now)
    except IntegrityError:
        return None
    if refused:
        raise StaffSignInRefused()
    return signed_in


def _fresh_fingerprint(claims: Mapping[str, object], now: datetime) -> str | None:
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, (int, float)):
        return None
    issued_at = datetime.fromtimestamp(issued, tz=timezone.utc)
    if not now - FRESH_FOR <= issued_at <= now + CLOCK_SKEW:
        return None
    # The nonce is new for every sign-in Streamlit starts; issuer and subject name the person.
    parts = [str(claims.get(name, "")) for name in ("iss", "sub", "iat", "nonce")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _used(session, fingerprint: str) -> bool:
    return session.scalar(select(exists().where(IdentityProviderReturn.fingerprint == fingerprint)))


def _verified(value: object) -> bool:
    # Some providers send the claim as the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _address_verified(claims: Mapping[str, object]) -> bool:
    """email_verified true; or, from a provider that never sends it (Microsoft Entra ID for work
    accounts), its optional xms_edov claim true: the address's domain is verified as the
    tenant's own. An email_verified that is present and not true is never overridden."""
    if "email_verified" in claims:
        return _verified(claims.get("email_verified"))
    return _verified(claims.get("xms_edov"))


def _let_in(session, claims: Mapping[str, object], now: datetime) -> User | None:
    """The staff account the answer names, marked signed in; None (audited) when refused."""
    details = {"method": METHOD, "issuer": str(claims.get("iss", ""))[:200]}
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        return _refuse(session, details, "no_email", None, now)
    if not _address_verified(claims):
        # Unverified, the address proves nothing: the event names no account.
        return _refuse(session, details, "email_not_verified", None, now)
    user = session.scalars(select(User).where(User.email == addresses.normalise(email))).first()
    if user is None:
        return _refuse(session, details, "unknown_user", None, now)
    _end_expired_lock(session, user, now)
    status = session.scalar(select(User.status).where(User.id == user.id))
    if status != UserStatus.ACTIVE:
        return _refuse(session, details, str(status), user, now)
    if not session.scalar(select(exists().where(StaffRole.user_id == user.id))):
        return _refuse(session, details, "no_staff_role", user, now)
    signed_in = session.execute(
        update(User).where(User.id == user.id, User.status == UserStatus.ACTIVE)
        .values(failed_attempts=0, last_login_at=now)).rowcount
    if not signed_in:
        return _refuse(session, details, "changed", user, now)
    audit.record(session, action="sign_in", details=details, **_who(user, now))
    return user


def _refuse(session, details: dict, reason: str, user: User | None, now: datetime) -> None:
    who = _who(user, now) if user is not None else {"now": now}
    audit.record(session, action="sign_in", outcome="failure", details={**details, "reason": reason}, **who)
    return None


def _who(user: User, now: datetime) -> dict:
    return {"actor_user_id": user.id, "actor_email": user.email, "target_type": "user",
            "target_id": user.id, "now": now}


def _end_expired_lock(session, user: User, now: datetime) -> None:
    """A lock whose period has passed ends here too, as at a password sign-in."""
    ended = session.execute(
        update(User)
        .where(User.id == user.id, User.status == UserStatus.LOCKED, User.locked_until <= now)
        .values(status=UserStatus.ACTIVE, failed_attempts=0, locked_until=None)).rowcount
    if ended:
        audit.record(session, action="user.unlocked", details={"by": "lock period ended"},
                     target_type="user", target_id=user.id, now=now)
