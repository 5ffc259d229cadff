"""Access reviews (privacy office): open a campaign, follow each reviewer's progress, see what
was not reviewed by the due date, export the record."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from pages.common.selection import Choice
from services import clock
from services.policy import ROLE_LABELS, Action, Role
from services.principals import Principal
from services.privacy import access_reviews as reviews
from services.wording import plural

MESSAGE_KEY = "access_reviews_message"
_CHOICE = Choice(grid_key="access_review_grid", chosen_key="access_review_selected",
                 label=lambda campaign_id: f"Access review {campaign_id}")


def render(principal: Principal) -> None:
    components.guard(principal, Action.RUN_ACCESS_REVIEWS)
    st.title("Access reviews")
    st.caption("Each provider group admin, provider admin and client account admin confirms, role "
               "by role, that the people they administer still need access. Nothing is removed "
               "for want of an answer: what is not reviewed by the due date is listed here.")
    show_message(MESSAGE_KEY)
    confirm.show_pending()
    rows = reviews.campaigns(runtime.database(), principal)
    _open_form(principal, expanded=not rows)
    if not rows:
        _CHOICE.resolve([])
        st.info("No access review yet.")
        return
    chosen = _CHOICE.grid(pd.DataFrame([{
        "Review": row.title, "Opened": components.local_day(row.opened_at, principal),
        "Due by the end of": _last_day(row.due_at, principal), "Roles": row.items,
        "Done": row.settled, "Removed": row.removed, "Not reviewed": row.pending,
    } for row in rows]), [row.id for row in rows])
    if chosen:
        _campaign(principal, next(row for row in rows if row.id == chosen[0]))
    else:
        st.caption("Choose a review to see each reviewer's progress.")


def _last_day(due_at: datetime, principal: Principal) -> str:
    return components.local_day(due_at - timedelta(seconds=1), principal)


def _open_form(principal: Principal, *, expanded: bool) -> None:
    with st.expander("Open an access review", expanded=expanded):
        with st.form("access_review_open"):
            title = st.text_input("Name", max_chars=reviews.TITLE_LIMIT, key="access_review_title",
                                  placeholder="For example: Access review, first quarter")
            today = clock.now().astimezone(principal.zone).date()
            due_on = st.date_input("Due date (reviews close at the end of this day)",
                                   value=today + timedelta(days=14),
                                   min_value=today + timedelta(days=2),
                                   max_value=today + timedelta(days=365), key="access_review_due")
            roles = st.multiselect("Who reviews their people", list(reviews.REVIEWER_ROLES),
                                   default=list(reviews.REVIEWER_ROLES),
                                   format_func=lambda role: ROLE_LABELS[role] + "s",
                                   key="access_review_roles")
            if st.form_submit_button("Open the review…") and run_action(
                    lambda principal: reviews.check_opening(principal, title=title, due_on=due_on,
                                                            reviewer_roles=roles)):
                _ask_open(title, due_on, roles)
                st.rerun()


def _ask_open(title: str, due_on: date, roles: list[Role]) -> None:
    who = ", ".join(ROLE_LABELS[role] + "s" for role in roles) or "nobody"

    def act() -> None:
        done = run_action(lambda principal: reviews.open_campaign(
            runtime.database(), principal, title=title, due_on=due_on, reviewer_roles=roles),
            success=lambda opened: (f"Access review opened: {plural(opened.items, 'role', 'roles')} "
                                    f"for {plural(opened.reviewers, 'reviewer', 'reviewers')}."),
            message_key=MESSAGE_KEY)
        if done is not None:
            _CHOICE.choose(done.result.campaign_id)

    confirm.ask(confirm.Question(
        title="Open an access review",
        lines=(f"Review: {title.strip()}", f"Reviewers: {who}.",
               f"Due by the end of {due_on:%A %d %B %Y}.",
               "Each reviewer gets an email now, and reminders 7 days and 1 day before the due "
               "date while roles wait for them. The list of people and roles is taken now."),
        confirm="Open the review", act=act))


def _campaign(principal: Principal, row: reviews.CampaignRow) -> None:
    db = runtime.database()
    components.literal(row.title, tag="h3")
    components.literal(f"Opened {components.local_time(row.opened_at, principal)} by "
                       f"{row.opened_by}; due by the end of {_last_day(row.due_at, principal)}.")
    progress = reviews.progress(db, principal, campaign_id=row.id)
    st.subheader("Progress per reviewer")
    st.dataframe(pd.DataFrame([{
        "Reviewer": p.name, "Email": p.email, "Roles": p.items, "Kept": p.kept,
        "Removed": p.removed, "Removed by another reviewer": p.removed_by_other,
        "Removed outside the review": p.gone, "Not reviewed": p.pending,
        "Last answer": components.local_time(p.last_decision_at, principal),
    } for p in progress]), hide_index=True, width="stretch", key=f"access_progress_{row.id}")
    overdue = clock.now() >= row.due_at
    waiting = reviews.not_reviewed(db, principal, campaign_id=row.id)
    st.subheader("Not reviewed by the due date" if overdue else "Still waiting for an answer")
    if not waiting:
        st.success("Every role has been answered.")
    else:
        if overdue:
            st.warning(f"{plural(len(waiting), 'role was', 'roles were')} not reviewed by the due "
                       "date. They stay as they are: follow up with the reviewer, or have the "
                       "role removed on the Users screen.")
        st.dataframe(pd.DataFrame([{
            "Reviewer": w.reviewer_name, "Reviewer email": w.reviewer_email,
            "Person": w.user_name, "Email": w.user_email, "Role": w.role_label,
            "Last sign-in": components.local_time(w.last_login_at, principal) or "Never",
        } for w in waiting]), hide_index=True, width="stretch", key=f"access_waiting_{row.id}")
    resume = runtime.principal_at_click()
    st.download_button("Download the record (CSV)", key=f"access_review_export_{row.id}",
                       data=lambda: reviews.export_csv(db, resume(), campaign_id=row.id),
                       file_name=f"access_review_{row.id}.csv", mime="text/csv",
                       on_click="ignore")
