"""What the Settings screen shows about how the portal is configured.

The editable parts live with what they govern: the support contact details in
services/mail/support_contact.py, the terms of use in services/identity/terms.py. Here is the
read-only part: the security configuration in effect, each rule with its value and where an
operator sets it (an environment variable, read at start and on each use, or fixed in code).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import Database
from services import settings
from services.identity import password_policy
from services.policy import ROLE_LABELS, Action, Role
from services.principals import Principal
from services.reports import retention
from services.transaction import transaction
from services.wording import count, period, plural

FIXED = "fixed in code"


def password_rules() -> list[str]:
    """The password rules in effect, as the people choosing a password read them."""
    return password_policy.help_text()


@dataclass(frozen=True)
class ConfigurationLine:
    rule: str
    value: str
    where: str  # the environment variable's name, or FIXED


def _minutes_or_hours(length) -> str:
    minutes = length.total_seconds() / 60
    if minutes < 1:
        return f"{int(length.total_seconds())} seconds"
    if minutes % 60 == 0:
        return period(length, "hours")
    return f"{minutes:g} minutes"


def security_configuration(db: Database, principal: Principal) -> list[ConfigurationLine]:
    """The security rules in effect now (system admins; nothing here is secret, but it is a map)."""
    with transaction(db, write=False):  # a refusal is audited like every other
        principal.require(Action.MANAGE_SETTINGS, target_type="portal_settings")
    now = settings.current()
    where = settings.VARIABLES
    return [
        ConfigurationLine("Sign-out after inactivity", _minutes_or_hours(now.session_idle),
                          where["session_idle"]),
        ConfigurationLine("Longest session", _minutes_or_hours(now.session_absolute),
                          where["session_absolute"]),
        ConfigurationLine("Failed sign-ins before an account locks",
                          count(now.failed_attempts_before_lock), FIXED),
        ConfigurationLine("A locked account unlocks itself after",
                          _minutes_or_hours(now.lockout_period), where["lockout_period"]),
        ConfigurationLine("Password policy", now.password_policy, where["password_policy"]),
        ConfigurationLine("Roles that must use a second factor",
                          ", ".join(ROLE_LABELS[Role(role)] for role in Role
                                    if role in now.two_factor_roles) or "none",
                          where["two_factor_roles"]),
        ConfigurationLine("Staff may sign in with a password",
                          "yes" if now.staff_password_sign_in else "no: Staff sign-in only",
                          where["staff_password_sign_in"]),
        ConfigurationLine("Most reports in one bulk download",
                          plural(now.bulk_download_reports, "report", "reports"),
                          where["bulk_download_reports"]),
        ConfigurationLine("Largest bulk download",
                          f"{now.bulk_download_bytes // (1024 * 1024):,} MB",
                          where["bulk_download_bytes"]),
        ConfigurationLine("Reports stay in the portal after delivery",
                          period(retention.RETENTION_PERIOD, "days"), FIXED),
        ConfigurationLine("An invitation link works for",
                          period(now.invitation_lifetime, "hours"), FIXED),
        ConfigurationLine("A password-reset link works for",
                          _minutes_or_hours(now.password_reset_lifetime), FIXED),
        ConfigurationLine("An email-change confirmation link works for",
                          period(now.email_change_lifetime, "hours"), FIXED),
        ConfigurationLine("An account without a sign-in is deactivated after",
                          period(now.dormant_after, "days"), where["dormant_after"]),
        ConfigurationLine("Staff and admin accounts without a sign-in are deactivated after",
                          period(min(now.dormant_after_staff, now.dormant_after), "days"),
                          where["dormant_after_staff"]),
        ConfigurationLine("The holder is warned by email before deactivation",
                          period(settings.DORMANT_WARNING, "days"), FIXED),
        ConfigurationLine("A provider-group registration code works for",
                          period(now.registration_code_lifetime, "days"),
                          where["registration_code_lifetime"]),
    ]
