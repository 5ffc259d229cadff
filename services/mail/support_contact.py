"""How people reach support and the HIPAA hotline: shown on the sign-in screen, in "Having
trouble signing in?", next to "I received this in error" and at the foot of every email.

The values are `portal_settings` rows a system admin edits on the Settings screen; a value
never set reads as its default below (fictional 555 numbers: set real ones in every deployment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import PortalSetting
from services import audit, clock
from services.errors import InvalidInput
from services.mail import addresses
from services.policy import Action
from services.principals import Principal
from services.transaction import transaction


@dataclass(frozen=True)
class SupportContact:
    support_phone: str
    support_hours: str
    support_email: str
    hipaa_hotline: str


DEFAULTS = SupportContact(support_phone="1-800-555-0142",
                          support_hours="Monday to Friday, 7 am to 7 pm Central time",
                          support_email="support@resultsdesk.example",
                          hipaa_hotline="1-800-555-0199")
LABELS = {"support_phone": "Support phone", "support_hours": "Support hours",
          "support_email": "Support email", "hipaa_hotline": "HIPAA hotline"}
KEYS = tuple(field.name for field in fields(SupportContact))
HOURS_LENGTH = 120
_PHONE = re.compile(r"[0-9+()\-. x]{7,40}")


def in_session(session: Session) -> SupportContact:
    """The contact details as they stand, inside the caller's transaction."""
    stored = dict(session.execute(select(PortalSetting.key, PortalSetting.value)
                                  .where(PortalSetting.key.in_(KEYS))).all())
    return SupportContact(**{key: stored.get(key) or getattr(DEFAULTS, key) for key in KEYS})


def contact(db: Database) -> SupportContact:
    """The contact details (anyone may read them: they are shown before sign-in)."""
    with transaction(db, write=False) as session:
        return in_session(session)


def email_footer(session: Session) -> str:
    """The lines at the foot of every email the portal sends."""
    now = in_session(session)
    return (f"Need help? ResultsDesk support: {now.support_phone} ({now.support_hours}), "
            f"{now.support_email}.\nReceived information in error? Call the HIPAA hotline: "
            f"{now.hipaa_hotline}.\n")


def _phone(value: str, label: str) -> str:
    if not _PHONE.fullmatch(value) or sum(ch.isdigit() for ch in value) < 7:
        raise InvalidInput(f"{label}: a phone number has 7 to 40 characters, at least 7 digits, "
                           "and only digits, spaces and + - ( ) . x.")
    return value


def _checked(values: SupportContact) -> SupportContact:
    cleaned = {key: " ".join(getattr(values, key).split()) for key in KEYS}
    hours = cleaned["support_hours"]
    if not hours or len(hours) > HOURS_LENGTH or addresses.has_line_break_or_control(hours):
        raise InvalidInput(f"Support hours: say when support answers, in at most {HOURS_LENGTH} "
                           "characters.")
    return SupportContact(support_phone=_phone(cleaned["support_phone"], "Support phone"),
                          support_hours=hours,
                          support_email=addresses.checked(cleaned["support_email"]),
                          hipaa_hotline=_phone(cleaned["hipaa_hotline"], "HIPAA hotline"))


def update(db: Database, principal: Principal, *, values: SupportContact) -> list[str]:
    """Change the contact details (system admins); returns the labels of what changed.

    Every change is audited with the values before and after; nothing changes when one value
    is not valid."""
    now = clock.now()
    with transaction(db) as session:
        principal.require(Action.MANAGE_SETTINGS, target_type="portal_settings")
        values = _checked(values)
        db.serialise(session, "portal settings")
        before = in_session(session)
        changed = [key for key in KEYS if getattr(before, key) != getattr(values, key)]
        if not changed:
            return []
        for key in changed:
            row = session.get(PortalSetting, key)
            if row is None:
                session.add(PortalSetting(key=key, value=getattr(values, key), updated_at=now,
                                          updated_by=principal.user_id))
            else:
                row.value, row.updated_at, row.updated_by = getattr(values, key), now, principal.user_id
        audit.record(session, action="settings.contact_changed", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="portal_settings",
                     details={"changed": [LABELS[key] for key in changed],
                              "before": "; ".join(f"{LABELS[k]}: {getattr(before, k)}" for k in changed),
                              "after": "; ".join(f"{LABELS[k]}: {getattr(values, k)}" for k in changed)},
                     now=now)
        return [LABELS[key] for key in changed]
