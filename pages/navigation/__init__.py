"""Which screens each principal gets, built from the policy table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import streamlit as st

from pages.common import components, links, runtime, session_cookie
from pages.screens import (
    access_review,
    access_reviews,
    audit,
    client_accounts,
    dashboard,
    disclosures,
    hipaa_queue,
    home,
    my_account,
    provider_groups,
    public_access,
    registration_codes,
    report_types,
    reports,
    roles,
    settings,
    sign_in,
    terms,
    upload,
    users,
)
from services import audit as audit_trail
from services.identity import terms as terms_of_use
from services.policy import Action
from services.principals import Principal

# Session state: whether this browser session's first address was checked against the roles.
_ADDRESS_CHECKED_KEY = "address_checked"


@dataclass(frozen=True)
class Screen:
    section: str
    title: str
    url_path: str
    action: Action | None
    render: Callable[[Principal], None]


SCREENS = (
    Screen("Portal", "Home", "home", None, home.render),
    Screen("Reports", "Reports", "reports", Action.VIEW_REPORTS, reports.render),
    Screen("Reports", "Upload reports", "upload", Action.UPLOAD_REPORTS, upload.render),
    Screen("Administration", "Users", "users", Action.MANAGE_USERS, users.render),
    Screen("Administration", "Provider groups", "provider-groups", Action.MANAGE_PROVIDER_GROUPS,
           provider_groups.render),
    Screen("Administration", "Registration codes", "registration-codes",
           Action.ISSUE_REGISTRATION_CODES, registration_codes.render),
    Screen("Administration", "Client accounts", "client-accounts", Action.MANAGE_CLIENT_ACCOUNTS,
           client_accounts.render),
    Screen("Administration", "Report types", "report-types", Action.MANAGE_REPORT_TYPES,
           report_types.render),
    Screen("Administration", "Roles", "roles", Action.VIEW_ROLES, roles.render),
    Screen("Administration", "Review your people", access_review.URL_PATH, Action.MANAGE_USERS,
           access_review.render),
    Screen("Privacy", "HIPAA queue", "hipaa-queue", Action.TRIAGE_INCIDENTS, hipaa_queue.render),
    Screen("Privacy", "Audit trail", "audit", Action.REVIEW_AUDIT, audit.render),
    Screen("Privacy", "Accounting of disclosures", "disclosures", Action.ACCOUNT_FOR_DISCLOSURES,
           disclosures.render),
    Screen("Privacy", "Access reviews", "access-reviews", Action.RUN_ACCESS_REVIEWS,
           access_reviews.render),
    Screen("Insight", "Dashboard", "dashboard", Action.VIEW_DASHBOARDS, dashboard.render),
    Screen("Account", "My account", "my-account", None, my_account.render),
    Screen("Account", "Settings", "settings", Action.MANAGE_SETTINGS, settings.render),
)


def screens_for(principal: Principal) -> list[Screen]:
    return [s for s in SCREENS if s.action is None or principal.can(s.action)]


def _page(screen: Screen, principal: Principal) -> st.Page:
    return st.Page(lambda: screen.render(principal), title=screen.title, url_path=screen.url_path,
                   default=screen.url_path == "home")


def pages_for(principal: Principal | None) -> dict[str, list[st.Page]] | list[st.Page]:
    if principal is None:
        signing_in = st.Page(sign_in.render, title="Sign in", url_path="sign-in", default=True)
        st.session_state[sign_in.SIGN_IN_PAGE_KEY] = signing_in
        # A signed-out browser that asks for a screen by address (an emailed report link, a
        # bookmark) gets the sign-in form at that same address, and returns to it signed in.
        at_screen_addresses = [
            st.Page(sign_in.render, title="Sign in", url_path=screen.url_path, visibility="hidden")
            for screen in SCREENS if screen.url_path != "home"]
        return [
            signing_in,
            *at_screen_addresses,
            st.Page(public_access.forgot_password, title="Forgot password", url_path="forgot-password"),
            st.Page(public_access.register, title="Register a provider group", url_path="register"),
            # Reached from emailed links only.
            st.Page(public_access.accept_invitation, title="Accept invitation",
                    url_path="accept-invitation", visibility="hidden"),
            st.Page(public_access.reset_password, title="Reset password", url_path="reset-password",
                    visibility="hidden"),
            st.Page(public_access.confirm_email, title="Confirm email address",
                    url_path="confirm-email", visibility="hidden"),
        ]
    if terms_of_use.needs_acceptance(runtime.database(), principal):
        # A new email address can still be confirmed from its link before the terms are accepted.
        return [st.Page(lambda: terms.render(principal), title="Terms of use", url_path="terms",
                        default=True),
                st.Page(public_access.confirm_email, title="Confirm email address",
                        url_path="confirm-email", visibility="hidden")]
    sections: dict[str, list[st.Page]] = {}
    for screen in screens_for(principal):
        sections.setdefault(screen.section, []).append(_page(screen, principal))
    links.remember([page for pages in sections.values() for page in pages])
    # Reached from an emailed link: a person with an account accepts an invitation signed in.
    sections["Account"].append(st.Page(lambda: public_access.accept_invitation_signed_in(principal),
                                       title="Accept invitation", url_path="accept-invitation",
                                       visibility="hidden"))
    # Reached from an emailed link: a new email address is confirmed the same way signed in.
    sections["Account"].append(st.Page(public_access.confirm_email, title="Confirm email address",
                                       url_path="confirm-email", visibility="hidden"))
    return sections


def audit_refused_address(principal: Principal | None) -> None:
    """Record a refusal when a browser asked by address for a screen the roles do not allow.

    st.navigation quietly shows the default screen instead; the audit trail should still know.
    Checked once per browser session, against the address the session was opened with.
    """
    if principal is None or st.session_state.get(_ADDRESS_CHECKED_KEY):
        return
    st.session_state[_ADDRESS_CHECKED_KEY] = True
    url = st.context.url
    path = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else ""
    screen = next((s for s in SCREENS if s.url_path == path), None)
    if screen is not None and screen.action is not None and not principal.can(screen.action):
        audit_trail.record_denial(runtime.database(),
                            principal.denied(screen.action, target_type="screen", target_id=path))


def sidebar(principal: Principal) -> None:
    with st.sidebar:
        components.literal(principal.name, tag="strong")
        components.literal(principal.email, tag="small")
        session_cookie.sign_out_button()
