"""All tables, importable from one place (Alembic reads Base.metadata from here)."""

from db.base import Base
from db.models.audit import AuditEvent
from db.models.dashboards import (
    EVERY_REPORT,
    AccountActivityDaily,
    AccountVolumeDaily,
    ReportVolumeDaily,
)
from db.models.incidents import INCIDENT_STATUSES, Incident
from db.models.organisations import ACCOUNT_KINDS, Account, Provider, ProviderGroup, RegistrationCode
from db.models.outbox import OUTBOX_STATUSES, OutboxMessage
from db.models.people import (
    ACCOUNT_ROLES,
    INVITATION_STATUSES,
    PROVIDER_ROLES,
    STAFF_ROLES,
    USER_STATUSES,
    AccountMembership,
    LoginSession,
    Membership,
    RoleInvitation,
    SessionHandoff,
    SignInFailure,
    StaffRole,
    Token,
    User,
)
from db.models.reports import (
    PREVIEW_STATUSES,
    REPORT_STATUSES,
    REPORT_TYPES,
    Patient,
    Report,
    ReportPreview,
    ReportRead,
    ReportRecipient,
)

__all__ = [
    "ACCOUNT_KINDS", "EVERY_REPORT", "AccountActivityDaily", "AccountVolumeDaily", "ReportVolumeDaily", "ACCOUNT_ROLES", "INCIDENT_STATUSES", "OUTBOX_STATUSES", "PREVIEW_STATUSES", "PROVIDER_ROLES", "REPORT_STATUSES", "REPORT_TYPES",
    "STAFF_ROLES", "USER_STATUSES", "Account", "AccountMembership", "AuditEvent", "Base", "Incident",
    "LoginSession", "Membership", "OutboxMessage", "Patient", "Provider", "ProviderGroup", "Report",
    "RegistrationCode", "ReportPreview", "ReportRead", "RoleInvitation", "INVITATION_STATUSES",
    "ReportRecipient", "SessionHandoff", "SignInFailure", "StaffRole", "Token", "User",
]
