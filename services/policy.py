"""Who may do what: the one table of roles and actions.

Every service function asks this module before it reads or changes data; pages use it only
to decide what to show. The Roles page renders ROLE_ACTIONS, so the matrix people read is the
matrix that is enforced. Where a role applies (which providers, client accounts, people and
roles at places it reaches) is services/reach.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    SUPPORT_REP = "support_rep"
    ACCOUNT_REP = "account_rep"
    PRIVACY_OFFICER = "privacy_officer"
    MANAGER = "manager"
    PROVIDER_GROUP_ADMIN = "provider_group_admin"
    PROVIDER_ADMIN = "provider_admin"
    PROVIDER_STAFF = "provider_staff"
    ACCOUNT_ADMIN = "account_admin"
    ACCOUNT_USER = "account_user"


class Action(StrEnum):
    VIEW_REPORTS = "view_reports"
    UPLOAD_REPORTS = "upload_reports"
    REDELIVER_REPORTS = "redeliver_reports"
    CORRECT_REPORTS = "correct_reports"
    WITHDRAW_REPORTS = "withdraw_reports"
    MANAGE_USERS = "manage_users"
    UNLOCK_USERS = "unlock_users"
    ASSIGN_STAFF_ROLES = "assign_staff_roles"
    MANAGE_PROVIDER_GROUPS = "manage_provider_groups"
    ISSUE_REGISTRATION_CODES = "issue_registration_codes"
    MANAGE_CLIENT_ACCOUNTS = "manage_client_accounts"
    SUPPORT_USERS = "support_users"
    TRIAGE_INCIDENTS = "triage_incidents"
    DECIDE_INCIDENTS = "decide_incidents"
    REVIEW_AUDIT = "review_audit"
    ACCOUNT_FOR_DISCLOSURES = "account_for_disclosures"
    VIEW_DASHBOARDS = "view_dashboards"
    VIEW_INCIDENT_COUNTS = "view_incident_counts"
    VIEW_ROLES = "view_roles"
    MANAGE_REPORT_TYPES = "manage_report_types"
    MANAGE_SETTINGS = "manage_settings"
    RUN_ACCESS_REVIEWS = "run_access_reviews"


ROLE_LABELS = {
    Role.SYSTEM_ADMIN: "System admin",
    Role.SUPPORT_REP: "Support representative",
    Role.ACCOUNT_REP: "Account representative",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.MANAGER: "Manager",
    Role.PROVIDER_GROUP_ADMIN: "Provider group admin",
    Role.PROVIDER_ADMIN: "Provider admin",
    Role.PROVIDER_STAFF: "Provider staff",
    Role.ACCOUNT_ADMIN: "Client account admin",
    Role.ACCOUNT_USER: "Client account user",
}

ACTION_LABELS = {
    Action.VIEW_REPORTS: "Search, open and download the reports you have access to",
    Action.UPLOAD_REPORTS: "Upload reports",
    Action.REDELIVER_REPORTS: "Re-deliver archived reports",
    Action.CORRECT_REPORTS: "Post a corrected report in place of one posted (the clinic's own)",
    Action.WITHDRAW_REPORTS: "Withdraw a report posted in error (the clinic's own)",
    Action.MANAGE_USERS: "Manage the users you administer",
    Action.UNLOCK_USERS: "Unlock locked users you administer",
    Action.ASSIGN_STAFF_ROLES: "Assign staff roles",
    Action.MANAGE_PROVIDER_GROUPS: "See and manage the provider groups and providers you administer",
    Action.ISSUE_REGISTRATION_CODES: "Issue registration codes",
    Action.MANAGE_CLIENT_ACCOUNTS: "Create and manage employer, payor and TPA accounts and the report types each receives",
    Action.SUPPORT_USERS: "Change a person's email address or new-result emails; send a password-reset link; reset two-factor sign-in",
    Action.TRIAGE_INCIDENTS: "Log and triage HIPAA incidents",
    Action.DECIDE_INCIDENTS: "Assess and close HIPAA incidents",
    Action.REVIEW_AUDIT: "Review the audit trail",
    Action.ACCOUNT_FOR_DISCLOSURES: "Produce a patient's accounting of disclosures (who received and opened their reports)",
    Action.VIEW_DASHBOARDS: "View volume dashboards (no patient identifiers)",
    Action.VIEW_INCIDENT_COUNTS: "See HIPAA incident counts on the dashboard",
    Action.VIEW_ROLES: "View the roles matrix",
    Action.MANAGE_REPORT_TYPES: "Add, rename and retire report types",
    Action.MANAGE_SETTINGS: "Change portal settings (contact details, terms of use)",
    Action.RUN_ACCESS_REVIEWS: "Open access reviews (admins confirm their people's roles) and follow them",
}

STAFF_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SUPPORT_REP, Role.ACCOUNT_REP,
                         Role.PRIVACY_OFFICER, Role.MANAGER})
PROVIDER_ROLES = (Role.PROVIDER_GROUP_ADMIN, Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF)
ACCOUNT_ROLES = (Role.ACCOUNT_ADMIN, Role.ACCOUNT_USER)

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.SYSTEM_ADMIN: frozenset(Action),
    Role.SUPPORT_REP: frozenset({
        Action.VIEW_REPORTS, Action.REDELIVER_REPORTS, Action.MANAGE_USERS, Action.UNLOCK_USERS,
        Action.CORRECT_REPORTS, Action.WITHDRAW_REPORTS, Action.SUPPORT_USERS, Action.MANAGE_PROVIDER_GROUPS, Action.ISSUE_REGISTRATION_CODES,
        Action.TRIAGE_INCIDENTS,
        Action.VIEW_DASHBOARDS, Action.VIEW_INCIDENT_COUNTS, Action.VIEW_ROLES,
    }),
    Role.ACCOUNT_REP: frozenset({
        Action.VIEW_REPORTS, Action.REDELIVER_REPORTS, Action.MANAGE_USERS, Action.UNLOCK_USERS,
        Action.MANAGE_CLIENT_ACCOUNTS, Action.VIEW_DASHBOARDS, Action.VIEW_ROLES,
    }),
    Role.PRIVACY_OFFICER: frozenset({
        Action.VIEW_REPORTS, Action.TRIAGE_INCIDENTS, Action.DECIDE_INCIDENTS,
        Action.REVIEW_AUDIT, Action.ACCOUNT_FOR_DISCLOSURES, Action.VIEW_ROLES,
        Action.RUN_ACCESS_REVIEWS,
    }),
    Role.MANAGER: frozenset({Action.VIEW_DASHBOARDS, Action.VIEW_INCIDENT_COUNTS}),
    Role.PROVIDER_GROUP_ADMIN: frozenset({Action.VIEW_REPORTS, Action.UPLOAD_REPORTS,
                                          Action.CORRECT_REPORTS, Action.WITHDRAW_REPORTS,
                                          Action.MANAGE_USERS, Action.UNLOCK_USERS,
                                          Action.MANAGE_PROVIDER_GROUPS}),
    Role.PROVIDER_ADMIN: frozenset({Action.VIEW_REPORTS, Action.UPLOAD_REPORTS,
                                    Action.CORRECT_REPORTS, Action.WITHDRAW_REPORTS,
                                    Action.MANAGE_USERS, Action.UNLOCK_USERS,
                                    Action.MANAGE_PROVIDER_GROUPS}),
    # Clinic staff post the reports of the providers they work at (the provider portal's
    # "general user account") and correct them; only admins manage people and withdraw reports.
    Role.PROVIDER_STAFF: frozenset({Action.VIEW_REPORTS, Action.UPLOAD_REPORTS,
                                    Action.CORRECT_REPORTS}),
    Role.ACCOUNT_ADMIN: frozenset({Action.VIEW_REPORTS, Action.MANAGE_USERS, Action.UNLOCK_USERS}),
    Role.ACCOUNT_USER: frozenset({Action.VIEW_REPORTS}),
}


def actions_of(roles: frozenset[str]) -> frozenset[Action]:
    """Everything any of these roles allows."""
    allowed: set[Action] = set()
    for role in roles:
        allowed |= ROLE_ACTIONS.get(Role(role), frozenset())
    return frozenset(allowed)


def roles_allowed(action: Action) -> list[Role]:
    """The roles that hold an action, in the matrix order (for 'who may see this')."""
    return [role for role in Role if action in ROLE_ACTIONS[role]]


@dataclass(frozen=True)
class Grant:
    """One role somewhere: a staff role, a provider-side role in a group (and provider), or a
    client role in an account. Exactly one of group_id / account_id is set for external roles."""

    role: Role
    group_id: int | None = None
    provider_id: int | None = None
    account_id: int | None = None

    @property
    def kind(self) -> str:
        if self.role in STAFF_ROLES:
            return "staff"
        return "provider" if self.role in PROVIDER_ROLES else "account"


def gives_power(role: Role) -> bool:
    """Staff roles and every role that manages users: giving one is asked about first."""
    return role in STAFF_ROLES or Action.MANAGE_USERS in ROLE_ACTIONS[role]


def grant_is_well_formed(grant: Grant) -> bool:
    if grant.kind == "staff":
        return grant.group_id is None and grant.provider_id is None and grant.account_id is None
    if grant.kind == "provider":
        needs_provider = grant.role != Role.PROVIDER_GROUP_ADMIN
        return (grant.group_id is not None and grant.account_id is None
                and (grant.provider_id is not None) == needs_provider)
    return grant.account_id is not None and grant.group_id is None and grant.provider_id is None


def matrix_markdown() -> str:
    """The role matrix as a Markdown table (docs/roles.md is checked against it by a test)."""
    header = "| Action | " + " | ".join(ROLE_LABELS[role] for role in Role) + " |"
    rule = "|---" * (len(Role) + 1) + "|"
    rows = [f"| {ACTION_LABELS[action]} | "
            + " | ".join("✓" if action in ROLE_ACTIONS[role] else "" for role in Role) + " |"
            for action in Action]
    return "\n".join([header, rule, *rows])
