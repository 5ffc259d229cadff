"""Small pieces the screens share."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import streamlit as st

from pages.common import runtime
from services import policy, time_zones
from services.policy import Action
from services.principals import Principal


_FOCUS_STYLE = Path(__file__).with_name("focus.css")
_FOCUS_RETURN = Path(__file__).with_name("focus_return.js").read_text()


def focus_ring() -> None:
    """A visible outline on whatever the keyboard focuses, and the focus given back after a
    dialog closes, on every screen (docs/accessibility.md)."""
    st.html(_FOCUS_STYLE)
    # A fixed script of ours (no user text): focus back on a dialog's opener after Cancel.
    st.html(f"<script>{_FOCUS_RETURN}</script>", unsafe_allow_javascript=True)


def guard(principal: Principal | None, action: Action | None) -> Principal:
    """Stop the page unless someone is signed in and holds the action (the services check again)."""
    if principal is None or (action is not None and not principal.can(action)):
        st.error("You do not have access to this page.")
        st.stop()
    return principal


def who_may_see(action: Action | None) -> str:
    if action is None:
        return "Everyone who is signed in"
    return ", ".join(policy.ROLE_LABELS[role] for role in policy.roles_allowed(action))


def role_labels(principal: Principal) -> list[str]:
    labels = [policy.ROLE_LABELS[r] for r in sorted(principal.staff_roles)]
    for link in principal.provider_links:
        # A group-wide role names the group once; its role label already says "group".
        where = link.provider_name or link.group_name
        labels.append(f"{policy.ROLE_LABELS[link.role]}: {where}")
    for link in principal.account_links:
        kind = "TPA" if link.account_kind == "tpa" else link.account_kind
        labels.append(f"{policy.ROLE_LABELS[link.role]}: {link.account_name} ({kind})")
    return labels


def local_time(moment: datetime | None, principal: Principal | None) -> str:
    """A stored (UTC) time as the person reads it: their zone, with its abbreviation.

    Every time a screen shows goes through here, so nobody sees a UTC time taken for local.
    """
    return _in_zone(moment, principal, "%Y-%m-%d %H:%M %Z")


def local_day(moment: datetime | None, principal: Principal | None) -> str:
    """The calendar day of a stored time in the person's zone (where a grid has room for no more)."""
    return _in_zone(moment, principal, "%Y-%m-%d")


def _in_zone(moment: datetime | None, principal: Principal | None, pattern: str) -> str:
    if moment is None:
        return ""
    stored = principal.time_zone if principal is not None else None
    # Signed out, or before the first sign-in stored a zone: the browser's own zone.
    zone = time_zones.zone_of(stored or runtime.browser_time_zone())
    return moment.astimezone(zone).strftime(pattern)


def literal(text: str, *, tag: str = "p") -> None:
    """Show text typed by people (names, organisations, emails) exactly as typed.

    Markdown would turn "[x](https://...)" or even a bare "www.example.org" into a link, and
    escaping cannot stop the automatic links; escaped HTML in st.html has no such rules.
    """
    st.html(f"<{tag}>{html.escape(text)}</{tag}>")


def literal_list(items: list[str]) -> None:
    st.html("<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>")
