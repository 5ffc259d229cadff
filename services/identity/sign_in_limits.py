"""The per-address sign-in limit: many failures from one client address pause its sign-ins.

Per-account lockout stops guessing one password; this stops one network trying a password
across many accounts. Failures are rows in the database, so every replica counts the same.
A success does not reset the count: one working account must not buy more guesses at others.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import SignInFailure
from services import settings


def is_limited(session: Session, *, address: str, now: datetime) -> bool:
    """True while the address has reached its failures within the window."""
    limits = settings.current()
    failures = session.scalar(
        select(func.count()).select_from(SignInFailure)
        .where(SignInFailure.address == address,
               SignInFailure.failed_at > now - limits.address_failure_window))
    return failures >= limits.address_failures_before_limit


def record_failure(session: Session, *, address: str, now: datetime) -> None:
    """Count one failure for the address, dropping its failures that no longer count."""
    window = settings.current().address_failure_window
    session.execute(delete(SignInFailure).where(SignInFailure.address == address,
                                                SignInFailure.failed_at <= now - window))
    session.add(SignInFailure(address=address[:64], failed_at=now))


def client_address(*, peer: str | None, forwarded: list[str]) -> str:
    """The address sign-in failures count against.

    Without RESULTSDESK_TRUSTED_PROXY_HEADER it is the peer of the connection (anyone can write
    a forwarded header). With it, each of our RESULTSDESK_TRUSTED_PROXIES proxies appended one
    address to that header, so the client is that many entries from the right; whatever the
    client wrote itself sits further left and is never believed.
    """
    limits = settings.current()
    peer = peer or "local"  # Streamlit reports a loopback peer as no address
    if not limits.trusted_proxy_header:
        return peer
    hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
    if len(hops) < limits.trusted_proxies:
        return peer
    return hops[-limits.trusted_proxies][:64]
