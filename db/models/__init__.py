"""All tables, importable from one place (Alembic reads Base.metadata from here)."""

from db.base import Base
from db.models.access_reviews import ACCESS_REVIEW_DECISIONS, AccessReviewCampaign, AccessReviewItem
from db.models.audit import AuditEvent
from db.models.dashboards import (
    EVERY_REPORT,
    AccountActivityDaily,
    AccountVolumeDaily,
    ReportVolumeDaily,
)
from db.models.identity_provider import IdentityProviderReturn
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
from db.models.portal import PortalSetting, TermsAcceptance, TermsVersion
from db.models.reports import (
    PREVIEW_STATUSES,
    REPORT_STATUSES,
    ACCOUNT_KIND_COLUMNS,
    AccountReportType,
    Patient,
    Report,
    ReportPreview,
    ReportRead,
    ReportRecipient,
    ReportType,
)
from db.models.results import DownloadLink, SavedSearch
from db.models.second_factor import CHALLENGE_STEPS, RecoveryCode, SecondFactor, SignInChallenge

__all__ = [
    "ACCOUNT_KINDS", "EVERY_REPORT", "AccountActivityDaily", "AccountVolumeDaily", "ReportVolumeDaily", "ACCOUNT_ROLES", "INCIDENT_STATUSES", "OUTBOX_STATUSES", "PREVIEW_STATUSES", "PROVIDER_ROLES", "REPORT_STATUSES",
    "STAFF_ROLES", "USER_STATUSES", "Account", "AccountMembership", "AuditEvent", "Base", "Incident",
    "LoginSession", "Membership", "OutboxMessage", "Patient", "Provider", "ProviderGroup", "Report",
    "RegistrationCode", "ReportPreview", "ReportRead", "RoleInvitation", "INVITATION_STATUSES",
    "ReportRecipient", "SessionHandoff", "SignInFailure", "StaffRole", "Token", "User",
    "ACCOUNT_KIND_COLUMNS", "AccountReportType", "PortalSetting", "ReportType", "TermsAcceptance",
    "TermsVersion", "DownloadLink", "SavedSearch", "CHALLENGE_STEPS", "RecoveryCode", "SecondFactor",
    "SignInChallenge", "IdentityProviderReturn",
    "ACCESS_REVIEW_DECISIONS", "AccessReviewCampaign", "AccessReviewItem",
]
