"""Small pieces the screens share."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from services import policy
from services.policy import Action
from services.principals import Principal


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
        where = plain(link.provider_name or f"all providers of {link.group_name}")
        labels.append(f"{policy.ROLE_LABELS[link.role]}: {where}")
    for link in principal.account_links:
        kind = "TPA" if link.account_kind == "tpa" else link.account_kind
        labels.append(f"{policy.ROLE_LABELS[link.role]}: {plain(link.account_name)} ({kind})")
    return labels


def utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


# Every ASCII punctuation mark may be backslash-escaped in Markdown; escaping "." and "@" also
# stops the automatic links GitHub-flavoured Markdown makes of "www.x.example" or emails.
_MARKDOWN_SPECIALS = set("\\`*_[]<>#|~$:{}()!.@-+=&")


def plain(text: str) -> str:
    """Text typed by people (names, organisations) shown literally inside Markdown, on one line.

    Without this, a name like "[Call us](https://evil.example)" would render as a link.
    """
    one_line = " ".join(text.split())
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in one_line)
