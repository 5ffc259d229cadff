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
    # Identity administration
    registration_code_lifetime: timedelta
    invitation_lifetime: timedelta
    password_reset_lifetime: timedelta
    password_policy: str  # "composition" (the provider portal's rule) or "length" (15+, no composition)
    terms_version: str
    # Email
    portal_url: str
    smtp_url: str
    outbox_dir: Path


def current() -> Settings:
    return Settings(
        session_idle=timedelta(minutes=_positive_number("RESULTSDESK_SESSION_IDLE_MINUTES", 15)),
        session_absolute=timedelta(hours=_positive_number("RESULTSDESK_SESSION_MAX_HOURS", 8)),
        lockout_period=timedelta(minutes=_positive_number("RESULTSDESK_LOCKOUT_MINUTES", 30)),
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
        # One bulk download is built in memory and sent in one message (Streamlit's limit is
        # 200 MB), so it stops at whichever of these comes first.
        bulk_download_reports=int(_positive_number("RESULTSDESK_BULK_DOWNLOAD_REPORTS", 500)),
        bulk_download_bytes=int(_positive_number("RESULTSDESK_BULK_DOWNLOAD_MB", 150) * 1024 * 1024),
        registration_code_lifetime=timedelta(days=_positive_number("RESULTSDESK_REGISTRATION_CODE_DAYS", 30)),
        invitation_lifetime=INVITATION_LIFETIME,
        password_reset_lifetime=PASSWORD_RESET_LIFETIME,
        password_policy=_choice("RESULTSDESK_PASSWORD_POLICY", ("composition", "length"), "composition"),
        terms_version=os.environ.get("RESULTSDESK_TERMS_VERSION") or "2026-11",
        # Links in emails are built from this, never from the request that caused the email.
        portal_url=(os.environ.get("RESULTSDESK_PORTAL_URL") or "http://localhost:8501").rstrip("/"),
        smtp_url=os.environ.get("SMTP_URL", ""),
        outbox_dir=Path(os.environ.get("RESULTSDESK_OUTBOX_DIR") or PROJECT_ROOT / "var" / "outbox"),
    )
