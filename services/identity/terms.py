"""The terms of use people accept before they use the portal, and which version they accepted.

The version comes from RESULTSDESK_TERMS_VERSION; changing it asks everyone to accept again at
their next sign-in.
"""

from __future__ import annotations

from db.engine import Database
from db.models import User
from services import audit, clock, settings
from services.principals import Principal
from services.transaction import transaction

TERMS_TEXT = """\
ResultsDesk is provided to authorised users of employers, workers' compensation payors, third
party administrators and medical providers to view and manage occupational-health results.

1. You use the portal only for the business purpose of your organisation and only for the
   patients and reports your organisation is entitled to.
2. Your user ID is your email address. Keep your password to yourself; never share an account.
3. Reports contain protected health information. Download them only where your organisation's
   policies allow, and store, share and destroy them as those policies require.
4. If you receive information in error, stop using it, do not share it, and report it at once
   through the portal or the HIPAA hotline. It will be removed from your view.
5. Activity in the portal is recorded, including which reports you open and download.
6. Access may be suspended or ended when these terms are not followed.
"""


def current_version() -> str:
    return settings.current().terms_version


def needs_acceptance(accepted_version: str | None) -> bool:
    """Whether someone who accepted `accepted_version` (or nothing) must accept again."""
    return accepted_version != current_version()


def accept(db: Database, principal: Principal) -> None:
    """Record that the signed-in user accepted the current terms (version and time)."""
    version, now = current_version(), clock.now()
    with transaction(db) as session:
        user = session.get(User, principal.user_id)
        user.terms_version, user.terms_accepted_at = version, now
        audit.record(session, action="terms.accepted", actor_user_id=principal.user_id,
                     actor_email=principal.email, target_type="user", target_id=principal.user_id,
                     details={"version": version}, now=now)
