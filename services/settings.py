"""Operator settings from the environment, read at call time (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


@dataclass(frozen=True)
class Settings:
    session_idle: timedelta
    session_absolute: timedelta
    lockout_period: timedelta
    failed_attempts_before_lock: int
    demo: bool
    cookie_secure: bool
    blob_dir: Path


def current() -> Settings:
    return Settings(
        session_idle=timedelta(minutes=_positive_number("RESULTSDESK_SESSION_IDLE_MINUTES", 15)),
        session_absolute=timedelta(hours=_positive_number("RESULTSDESK_SESSION_MAX_HOURS", 8)),
        lockout_period=timedelta(minutes=_positive_number("RESULTSDESK_LOCKOUT_MINUTES", 30)),
        # The provider-portal rule: "Your account will lock after three unsuccessful attempts."
        failed_attempts_before_lock=3,
        demo=_flag("RESULTSDESK_DEMO", True),
        cookie_secure=_flag("RESULTSDESK_COOKIE_SECURE", True),
        blob_dir=Path(os.environ.get("RESULTSDESK_BLOB_DIR") or PROJECT_ROOT / "var" / "blobs"),
    )
