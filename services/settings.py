"""Operator settings from the environment, read at call time (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Rules that are not configured: stated here once, read by the code, the screens and the emails.
# The provider-portal rule: "Your account will lock after three unsuccessful attempts."
FAILED_ATTEMPTS_BEFORE_LOCK = 3
INVITATION_LIFETIME = timedelta(hours=48)
PASSWORD_RESET_LIFETIME = timedelta(hours=1)
# A link confirming a new email address (sent to that address) works this long, once.
EMAIL_CHANGE_LIFETIME = timedelta(hours=48)

# The environment variable behind each configurable rule the Settings screen shows.
VARIABLES = {
    "session_idle": "RESULTSDESK_SESSION_IDLE_MINUTES",
    "session_absolute": "RESULTSDESK_SESSION_MAX_HOURS",
    "lockout_period": "RESULTSDESK_LOCKOUT_MINUTES",
    "bulk_download_reports": "RESULTSDESK_BULK_DOWNLOAD_REPORTS",
    "bulk_download_bytes": "RESULTSDESK_BULK_DOWNLOAD_MB",
    "password_policy": "RESULTSDESK_PASSWORD_POLICY",
    "registration_code_lifetime": "RESULTSDESK_REGISTRATION_CODE_DAYS",
    "two_factor_roles": "RESULTSDESK_TWO_FACTOR_ROLES",
    "staff_password_sign_in": "RESULTSDESK_STAFF_PASSWORD_SIGN_IN",
    "dormant_after": "RESULTSDESK_DORMANT_DAYS",
    "dormant_after_staff": "RESULTSDESK_DORMANT_STAFF_DAYS",
}

# A dormant account's holder is emailed this long before the account is deactivated, so each
# dormancy limit must be longer than this.
DORMANT_WARNING = timedelta(days=7)

# Who must use a second factor unless RESULTSDESK_TWO_FACTOR_ROLES says otherwise: every staff
# role and every role that manages people (docs/security.md).
TWO_FACTOR_ROLES = ("system_admin", "support_rep", "account_rep", "privacy_officer", "manager",
                    "provider_group_admin", "provider_admin", "account_admin")
ALL_ROLES = TWO_FACTOR_ROLES + ("provider_staff", "account_user")


def _positive_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be greater than zero, got {raw!r}")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def _roles(name: str, default: tuple[str, ...]) -> frozenset[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return frozenset(default)
    if raw.strip().lower() == "none":
        return frozenset()
    roles = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = sorted(roles - set(ALL_ROLES))
    if unknown:
        raise SystemExit(f"{name} names unknown roles: {', '.join(unknown)} (roles: "
                         f"{', '.join(ALL_ROLES)}, or none)")
    return frozenset(roles)


def _dormancy_limit(name: str, default: float) -> timedelta:
    limit = timedelta(days=_positive_number(name, default))
    if limit <= DORMANT_WARNING:
        raise SystemExit(f"{name} must be more than {DORMANT_WARNING.days} days (the warning "
                         f"email goes out {DORMANT_WARNING.days} days before), got "
                         f"{os.environ.get(name)!r}")
    return limit


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = (os.environ.get(name) or default).strip().lower()
    if raw not in allowed:
        raise SystemExit(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    session_idle: timedelta
    session_absolute: timedelta
    lockout_period: timedelta
    failed_attempts_before_lock: int
    demo: bool
    # The scheduled jobs (emails, archiving, notices) run inside the server process too; a
    # deployment that schedules the commands turns this off.
    inline_jobs: bool
    cookie_secure: bool
    session_handoff_lifetime: timedelta
    # Probing: a session refused this many times within the window is ended.
    refusals_before_probing: int
    refusal_window: timedelta
    # Sign-in failures from one client address before every sign-in from it is refused.
    address_failures_before_limit: int
    address_failure_window: timedelta
    # Which forwarded header names the client, and how many proxies of ours append to it.
    trusted_proxy_header: str
    trusted_proxies: int
    blob_dir: Path
    # Reports
    max_report_bytes: int
    max_report_pages: int
    pdf_check_seconds: float
    pdf_check_memory_mb: int
    bulk_download_reports: int
    bulk_download_bytes: int
    merged_pdf_bytes: int
    # Identity administration
    registration_code_lifetime: timedelta
    invitation_lifetime: timedelta
    password_reset_lifetime: timedelta
    password_policy: str  # "composition" (the provider portal's rule) or "length" (15+, no composition)
    email_change_lifetime: timedelta
    # Roles whose holders must sign in with a second factor (a code from an authenticator app).
    two_factor_roles: frozenset[str]
    # Off: staff sign in only through the company's identity provider (Staff sign-in).
    staff_password_sign_in: bool
    # An account nobody signed in to for this long is deactivated by the scheduled jobs
    # (services/identity/dormant_accounts.py); staff and admin roles have the shorter limit.
    dormant_after: timedelta
    dormant_after_staff: timedelta
    # Email
    portal_url: str
    smtp_url: str
    outbox_dir: Path


def current() -> Settings:
    return Settings(
        session_idle=timedelta(minutes=_positive_number(VARIABLES["session_idle"], 15)),
        session_absolute=timedelta(hours=_positive_number(VARIABLES["session_absolute"], 8)),
        lockout_period=timedelta(minutes=_positive_number(VARIABLES["lockout_period"], 30)),
        failed_attempts_before_lock=FAILED_ATTEMPTS_BEFORE_LOCK,
        demo=_flag("RESULTSDESK_DEMO", True),
        inline_jobs=_flag("RESULTSDESK_INLINE_JOBS", True),
        cookie_secure=_flag("RESULTSDESK_COOKIE_SECURE", True),
        session_handoff_lifetime=timedelta(seconds=30),
        refusals_before_probing=int(_positive_number("RESULTSDESK_PROBING_REFUSALS", 20)),
        refusal_window=timedelta(minutes=1),
        address_failures_before_limit=int(_positive_number("RESULTSDESK_ADDRESS_FAILURES", 30)),
        address_failure_window=timedelta(minutes=_positive_number("RESULTSDESK_ADDRESS_FAILURE_MINUTES", 10)),
        trusted_proxy_header=(os.environ.get("RESULTSDESK_TRUSTED_PROXY_HEADER") or "").strip(),
        trusted_proxies=int(_positive_number("RESULTSDESK_TRUSTED_PROXIES", 1)),
        blob_dir=Path(os.environ.get("RESULTSDESK_BLOB_DIR") or PROJECT_ROOT / "var" / "blobs"),
        max_report_bytes=int(_positive_number("RESULTSDESK_MAX_REPORT_MB", 20) * 1024 * 1024),
        max_report_pages=int(_positive_number("RESULTSDESK_MAX_REPORT_PAGES", 200)),
        pdf_check_seconds=_positive_number("RESULTSDESK_PDF_CHECK_SECONDS", 10),
        pdf_check_memory_mb=int(_positive_number("RESULTSDESK_PDF_CHECK_MEMORY_MB", 512)),
        # One bulk download is streamed from the portal's own route (never held whole in memory,
        # but a merged PDF is built by pypdf in memory), and stops at whichever comes first.
        bulk_download_reports=int(_positive_number(VARIABLES["bulk_download_reports"], 5000)),
        bulk_download_bytes=int(_positive_number(VARIABLES["bulk_download_bytes"], 2048) * 1024 * 1024),
        # pypdf holds a merged PDF's pages in memory while it writes them: a smaller cap keeps
        # one person's merge from taking a server's memory (a ZIP has no such cost).
        merged_pdf_bytes=int(_positive_number("RESULTSDESK_MERGED_PDF_MB", 200) * 1024 * 1024),
        registration_code_lifetime=timedelta(days=_positive_number(VARIABLES["registration_code_lifetime"], 30)),
        invitation_lifetime=INVITATION_LIFETIME,
        password_reset_lifetime=PASSWORD_RESET_LIFETIME,
        password_policy=_choice(VARIABLES["password_policy"], ("composition", "length"), "composition"),
        email_change_lifetime=EMAIL_CHANGE_LIFETIME,
        # The demo's printed logins work without an authenticator app; a deployment (demo off)
        # requires it of staff and admins unless told otherwise.
        two_factor_roles=_roles(VARIABLES["two_factor_roles"],
                                () if _flag("RESULTSDESK_DEMO", True) else TWO_FACTOR_ROLES),
        staff_password_sign_in=_flag(VARIABLES["staff_password_sign_in"], True),
        dormant_after=_dormancy_limit(VARIABLES["dormant_after"], 90),
        dormant_after_staff=_dormancy_limit(VARIABLES["dormant_after_staff"], 45),
        # Links in emails are built from this, never from the request that caused the email.
        portal_url=(os.environ.get("RESULTSDESK_PORTAL_URL") or "http://localhost:8501").rstrip("/"),
        smtp_url=os.environ.get("SMTP_URL", ""),
        outbox_dir=Path(os.environ.get("RESULTSDESK_OUTBOX_DIR") or PROJECT_ROOT / "var" / "outbox"),
    )
