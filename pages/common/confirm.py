"""Asking before a click takes access away or gives power: a dialog naming what happens to whom.

The question waits in session state, so it survives the reruns a dialog's own buttons cause;
closing the dialog, Cancel and the confirmed action all forget it. Names and addresses are
shown through components.literal, never as Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from pages.common import components

# Session state: the question waiting for an answer.
PENDING_KEY = "confirm_pending"


@dataclass(frozen=True)
class Question:
    title: str  # fixed words only: no names (a dialog title is Markdown)
    lines: tuple[str, ...]  # what will happen to whom, shown literally
    confirm: str  # the confirming button's label, the same verb as the action
    act: Callable[[], None]
    people: tuple[str, ...] = ()  # "Name (email)" of everyone concerned, shown literally


def ask(question: Question) -> None:
    """A button's on_click: open the dialog on the next run."""
    st.session_state[PENDING_KEY] = question


def forget() -> None:
    st.session_state.pop(PENDING_KEY, None)


def show_pending() -> None:
    """Show the waiting question, if any (call once per run, before the lists it may change)."""
    question = st.session_state.get(PENDING_KEY)
    if question is not None:
        st.dialog(question.title, on_dismiss=forget)(_body)(question)


def _body(question: Question) -> None:
    for line in question.lines:
        components.literal(line)
    if question.people:
        components.literal_list(list(question.people))
    left, right = st.columns(2)
    if left.button(question.confirm, key="confirm_yes", type="primary"):
        forget()
        question.act()
        st.rerun()  # the whole screen, so every list shows the change
    if right.button("Cancel", key="confirm_cancel"):
        forget()
        st.rerun()
