"""Review your people: an admin keeps or removes, role by role, the access of the people they
administer, for the access reviews the privacy office opened."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from pages.common import components, confirm, links, runtime
from pages.common.actions import run_action, show_message
from services.policy import Action
from services.principals import Principal
from services.privacy import access_reviews as reviews
from services.privacy.access_reviews import ItemRow, MyCampaign
from services.wording import plural

URL_PATH = "access-review"
MESSAGE_KEY = "access_review_message"
PENDING_SHOWN = 50  # answered ones leave the list, so the next ones come up


def home_notice(principal: Principal) -> None:
    """On Home: how many roles wait for this admin's decision, with a link to the review."""
    waiting = reviews.waiting_for(runtime.database(), principal)
    if not waiting:
        return
    st.warning(f"An access review asks you to confirm {plural(waiting, 'role', 'roles')} of "
               "the people you administer.")
    page = links.page(URL_PATH)
    if page is not None:
        st.page_link(page, label="Review your people")


def _decide(item_id: int, decision: str, done: str) -> None:
    run_action(lambda principal: reviews.decide(runtime.database(), principal, item_id=item_id,
                                                decision=decision),
               success=done, message_key=MESSAGE_KEY)


def _keep(row: ItemRow) -> None:
    # Fixed words: messages are formatted text, and names are typed by people.
    _decide(row.id, reviews.KEEP, "Role kept.")


def _ask_remove(row: ItemRow) -> None:
    confirm.ask(confirm.Question(
        title="Remove this role",
        lines=(f"This role is taken away now: {row.role_label}.",
               "The person gets an email saying their roles changed. Their other roles stay.",
               "The removal is recorded in this review and in the audit trail."),
        confirm="Remove the role",
        act=lambda: _decide(row.id, reviews.REMOVE, "Role removed."),
        people=(f"{row.user_name} ({row.user_email})",)))


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_USERS)
    st.title("Review your people")
    st.caption("The privacy office asks each admin to confirm, now and then, that the people they "
               "administer still need each of their roles. Keep what is still needed; Remove "
               "takes the role away at once, as on the Users screen.")
    show_message(MESSAGE_KEY)
    confirm.show_pending()
    mine = reviews.my_reviews(runtime.database(), principal)
    if not mine:
        st.info("No access review is waiting for you.")
        return
    for campaign in mine:
        _campaign(principal, campaign)


def _campaign(principal: Principal, campaign: MyCampaign) -> None:
    with st.container(border=True, key=f"access_review_{campaign.campaign_id}"):
        components.literal(campaign.title, tag="h3")
        decided = len(campaign.items) - campaign.pending
        st.write(f"Due by the end of {components.local_day(campaign.due_at - timedelta(seconds=1), principal)}. "
                 f"{decided} of {plural(len(campaign.items), 'role', 'roles')} done.")
        pending = [row for row in campaign.items if row.state == reviews.PENDING]
        if pending:
            _pending(principal, pending)
        else:
            st.success("You have reviewed every role in this review. Thank you.")
        done = [row for row in campaign.items if row.state != reviews.PENDING]
        if done:
            with st.expander(f"Done ({len(done)})"):
                st.dataframe(pd.DataFrame([{
                    "Person": row.user_name, "Email": row.user_email, "Role": row.role_label,
                    "Result": _result(row),
                    "Decided": components.local_time(row.decided_at or row.removed_at, principal),
                } for row in done]), hide_index=True, width="stretch")


def _result(row: ItemRow) -> str:
    if row.state == reviews.REMOVED and row.decision != reviews.REMOVE:
        return f"Removed by {row.removed_by or 'another reviewer'}"
    return reviews.STATE_WORDS[row.state]


def _pending(principal: Principal, pending: list[ItemRow]) -> None:
    header = st.columns([3, 3, 2, 1, 1.3])
    for column, words in zip(header, ("Person", "Role", "Last sign-in", "", "")):
        column.markdown(f"**{words}**" if words else "")
    for row in pending[:PENDING_SHOWN]:
        with st.container(key=f"access_item_{row.id}"):
            person, role, last, keep, remove = st.columns([3, 3, 2, 1, 1.3])
            with person:
                components.literal(f"{row.user_name} ({row.user_email})")
            with role:
                components.literal(row.role_label)
            last.write(components.local_time(row.last_login_at, principal) or "Never")
            keep.button("Keep", key=f"access_keep_{row.id}", on_click=_keep, args=(row,))
            remove.button("Remove", key=f"access_remove_{row.id}", on_click=_ask_remove,
                          args=(row,))
    if len(pending) > PENDING_SHOWN:
        st.caption(f"{len(pending) - PENDING_SHOWN} more come up as you answer these.")
