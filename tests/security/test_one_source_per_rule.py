"""Each of the portal's rules is written down in one module; screens, emails and docstrings
state it from there. A number typed again elsewhere ("60 days" on a screen) drifts the day the
rule changes, and people are then told one thing while the portal does another."""

from __future__ import annotations

import re
from pathlib import Path

from db import models
from services import statuses

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("pages", "services", "commands")
TEXT_SUFFIXES = {".py", ".txt", ".html", ".md", ".toml"}

RETENTION_OR_NOTIFICATION = {"services/reports/retention.py", "services/hipaa.py"}
SETTINGS = {"services/settings.py"}
# The literal forms of each rule, and the only files allowed to contain them.
RULE_FORMS = {
    # Retention (services.reports.retention) and HIPAA breach notification (services.hipaa).
    "60 days": RETENTION_OR_NOTIFICATION,
    "60-day": RETENTION_OR_NOTIFICATION,
    "sixty days": RETENTION_OR_NOTIFICATION,
    # Lockout after failed sign-ins (settings.failed_attempts_before_lock).
    "three unsuccessful": SETTINGS,
    "three attempts": SETTINGS,
    "three failed": SETTINGS,
    "three failures": SETTINGS,
    "three consecutive": SETTINGS,
    "three wrong": SETTINGS,
    "3 unsuccessful": SETTINGS,
    "3 attempts": SETTINGS,
    "3 failed": SETTINGS,
    "3 failures": SETTINGS,
    # Invitation and password-reset link lifetimes (settings).
    "48 hours": SETTINGS,
    "48-hour": SETTINGS,
    "one hour": SETTINGS,
    "60 minutes": SETTINGS,
    # A report's size limit (settings.max_report_bytes); 50 MB is only Streamlit's request cap.
    "20 MB": SETTINGS,
    "50 MB": set(),
    # One bulk download (settings.bulk_download_reports / bulk_download_bytes).
    "500 reports": SETTINGS,
    "150 MB": SETTINGS,
    # The Dashboard's promises (services.insight.report_volume.TURNAROUND_TARGET, OPENED_WITHIN).
    "72 hours": {"services/insight/report_volume.py"},
    "72-hour": {"services/insight/report_volume.py"},
    "3 days": {"services/insight/report_volume.py"},
    # Registration-code checks (services.organizations.registration.ATTEMPT_WINDOW).
    "15 minutes": {"services/organizations/registration.py"},
}


def _pattern(form: str) -> re.Pattern[str]:
    # Whole words only: "160 days" or "20 MBit" are not the rule.
    return re.compile(r"(?<![\w.])" + re.escape(form) + r"(?!\w)", re.IGNORECASE)


def _sources() -> dict[str, str]:
    """Every text file under pages/, services/ and commands/ (code, emails, word lists)."""
    return {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8", errors="replace")
            for folder in SCANNED for path in sorted((ROOT / folder).rglob("*"))
            if path.is_file() and path.suffix in TEXT_SUFFIXES}


def misplaced_rules(sources: dict[str, str]) -> list[str]:
    return [f"{name}: {form!r}" for name, text in sources.items()
            for form, owners in RULE_FORMS.items()
            if name not in owners and _pattern(form).search(text)]


def test_no_rule_is_written_outside_the_module_that_defines_it():
    sources = _sources()
    assert len(sources) > 100  # the scan sees the code
    assert misplaced_rules(sources) == []


def test_a_screen_that_states_a_rule_again_is_caught():
    name = "pages/screens/report_view.py"
    screen = (ROOT / name).read_text(encoding="utf-8")
    again = screen + '\nst.caption("Re-delivered: available again for 60 days.")\n'
    assert misplaced_rules({name: screen}) == []
    assert misplaced_rules({name: again}) == [f"{name}: '60 days'"]
    assert misplaced_rules({"services/mail/account_emails.py": "locked after 3 failed sign-ins"}) \
        == ["services/mail/account_emails.py: '3 failed'"]


def test_every_module_named_as_a_rule_source_exists():
    """If a rule moved, RULE_FORMS must move with it, or the scan would allow a stale path."""
    for owner in set().union(*RULE_FORMS.values()):
        assert (ROOT / owner).is_file(), owner


def test_every_status_enum_is_exactly_what_its_column_stores():
    """db.models keeps plain strings (the database layer never imports services); the enums
    the services compare with must be those strings, no more and no fewer."""
    pairs = [(statuses.UserStatus, models.USER_STATUSES),
             (statuses.ReportStatus, models.REPORT_STATUSES),
             (statuses.IncidentStatus, models.INCIDENT_STATUSES),
             (statuses.MessageStatus, models.OUTBOX_STATUSES),
             (statuses.InvitationStatus, models.INVITATION_STATUSES),
             (statuses.PreviewStatus, models.PREVIEW_STATUSES)]
    for enum, stored in pairs:
        assert [member.value for member in enum] == list(stored), enum.__name__
