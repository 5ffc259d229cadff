"""Each person's own time zone: taken from the browser at the first sign-in, changed on My account."""

from __future__ import annotations

from db.engine import Database
from db.models import User
from services import audit, clock, time_zones
from services.errors import InvalidInput
from services.principals import Principal
from services.transaction import transaction


def set_time_zone(db: Database, principal: Principal, *, user_id: int, time_zone: str) -> str:
    """Change a person's time zone (only their own); returns the stored name (audited)."""
    name = time_zones.checked(time_zone)
    with transaction(db) as session:
        if user_id != principal.user_id:
            # No role covers another person's zone; the transaction audits the refusal.
            raise principal.denied("time_zone.change", target_type="user", target_id=user_id)
        if name is None:
            raise InvalidInput("Choose a time zone from the list.")
        _store(session, principal, name)
    return name


def adopt_browser_zone(db: Database, principal: Principal, *, browser_zone: str | None) -> str:
    """At the first sign-in, keep the browser's zone (UTC if it sends none or an unknown one)."""
    name = time_zones.checked(browser_zone) or time_zones.UTC_NAME
    with transaction(db) as session:
        user = session.get(User, principal.user_id)
        if user.time_zone is not None:  # chosen already, perhaps in another tab: keep that
            return user.time_zone
        _store(session, principal, name,
               {"from": "none", "to": name, "source": "browser at first sign-in"})
    return name


def _store(session, principal: Principal, name: str, details: dict | None = None) -> None:
    user = session.get(User, principal.user_id)
    if user.time_zone == name:
        return
    before, user.time_zone = user.time_zone, name
    audit.record(session, action="time_zone.changed", actor_user_id=principal.user_id,
                 actor_email=principal.email, target_type="user", target_id=principal.user_id,
                 details=details or {"from": before or "none", "to": name}, now=clock.now())
