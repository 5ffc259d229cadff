"""Home: who you are signed in as, what you can do here."""

from __future__ import annotations

import streamlit as st

from pages.common import components, confirm, runtime
from pages.screens import access_review, saved_search_list
from services import policy, settings
from services.policy import Action
from services.principals import Principal
from services.reports import search
from services.wording import period


def _new_results(principal: Principal) -> None:
    found, capped = search.count(runtime.database(), principal,
                                        search.ReportFilter(read="new"))
    if found == 0:
        st.info("No new reports since you last looked.")
        return
    one = found == 1 and not capped
    noun, marked = ("report", "it is") if one else ("reports", "they are")
    st.info(f"You have {search.count_label(found, capped)} new {noun}: {marked} marked "
            "New on the Reports screen.")


def render(principal: Principal) -> None:
    components.guard(principal, None)
    st.title("Welcome")
    components.literal(f"Signed in as {principal.name} ({principal.email}).")
    access_review.home_notice(principal)
    if principal.can(Action.VIEW_REPORTS) and not principal.is_staff:
        _new_results(principal)
    if principal.can(Action.VIEW_REPORTS):
        confirm.show_pending()  # deleting a saved search asks first
        saved_search_list.show(principal)
    left, right = st.columns(2)
    with left:
        st.header("Your roles")
        labels = components.role_labels(principal)
        if labels:
            components.literal_list(labels)
        else:
            st.write("No roles yet: ask your administrator.")
    with right:
        st.header("What you can do")
        actions = [policy.ACTION_LABELS[a] for a in policy.Action if principal.can(a)]
        st.markdown("\n".join(f"- {label}" for label in actions) if actions else "Nothing yet.")
    limits = settings.current()
    hours = limits.session_absolute.total_seconds() / 3600
    st.caption(f"For your security you are signed out after {period(limits.session_idle, 'minutes')} "
               f"without activity and after {hours:g} {'hour' if hours == 1 else 'hours'} in all.")
