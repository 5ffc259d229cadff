"""Home's "Saved searches": each with how many reports are new in it since the person last
looked, Open (on Reports), whether the new-result email counts it, rename and delete.

Names are the person's own text: shown literally, never as Markdown. Every widget of a saved
search carries its id in its key, so a deleted or renamed one never lends its state to another.
"""

from __future__ import annotations

import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from pages.screens import saved_search_form
from services.principals import Principal
from services.reports import saved_searches
from services.reports.saved_searches import SavedSearchEntry

_MESSAGE_KEY = "saved_searches_message"


def show(principal: Principal) -> None:
    st.header("Saved searches")
    show_message(_MESSAGE_KEY)
    entries = saved_searches.listing(runtime.database(), principal)
    if not entries:
        st.caption("None yet. On the Reports screen, search, then use “Save this search” to see "
                   "here how many reports are new in it since you last looked.")
        return
    for entry in entries:
        _line(entry)
    st.caption(f"Opening a saved search counts as looking at it. You can keep up to "
               f"{saved_searches.MAX_PER_PERSON}; the new-result email (switched on under My "
               "account) gives only counts, under the names you chose.")


def _line(entry: SavedSearchEntry) -> None:
    with st.container(border=True, key=f"saved_search_{entry.id}"):
        name, count, actions = st.columns([3, 2, 3], vertical_alignment="center")
        with name:
            components.literal(entry.name, tag="strong")
        with count:
            if entry.not_applying:
                st.caption(f"No longer applies. {entry.not_applying}")
            else:
                components.literal(f"{entry.new_label} new since you last looked")
        with actions.container(horizontal=True):
            if st.button("Open", key=f"saved_search_open_{entry.id}",
                         disabled=bool(entry.not_applying),
                         help=entry.not_applying or "Show it on Reports"):
                saved_search_form.open_on_reports(entry.id)
            with st.popover("Rename", key=f"saved_search_rename_menu_{entry.id}"):
                _rename_form(entry)
            st.button("Delete", key=f"saved_search_delete_{entry.id}",
                      on_click=confirm.ask, args=(_delete_question(entry),))
        st.toggle("In my new-results email", value=entry.in_email,
                  key=f"saved_search_email_{entry.id}", disabled=bool(entry.not_applying),
                  on_change=_switch_email, args=(entry.id,))


def _rename_form(entry: SavedSearchEntry) -> None:
    key = f"saved_search_name_{entry.id}"
    with st.form(f"saved_search_rename_{entry.id}", border=False):
        st.text_input("New name", value=entry.name, key=key,
                      max_chars=saved_searches.NAME_LENGTH)
        st.form_submit_button("Rename", on_click=_rename, args=(entry.id, key))


def _rename(saved_search_id: int, key: str) -> None:
    run_action(lambda principal: saved_searches.rename(
        runtime.database(), principal, saved_search_id=saved_search_id,
        name=st.session_state.get(key, "")), success="Saved search renamed.",
        message_key=_MESSAGE_KEY)


def _switch_email(saved_search_id: int) -> None:
    included = bool(st.session_state.get(f"saved_search_email_{saved_search_id}"))
    run_action(lambda principal: saved_searches.set_in_email(
        runtime.database(), principal, saved_search_id=saved_search_id, included=included),
        message_key=_MESSAGE_KEY)


def _delete_question(entry: SavedSearchEntry) -> confirm.Question:
    return confirm.Question(
        title="Delete this saved search?", confirm="Delete saved search",
        lines=(f"Delete the saved search “{entry.name}”?",
               "Only the saved search goes: no report changes, and you can save the same "
               "search again from Reports."),
        act=lambda: run_action(lambda principal: saved_searches.delete(
            runtime.database(), principal, saved_search_id=entry.id),
            success="Saved search deleted.", message_key=_MESSAGE_KEY))
