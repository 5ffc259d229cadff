"""Screens that later releases fill in; each already says what it is and who may use it."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pages.common import components
from services.policy import Action
from services.principals import Principal


def placeholder(title: str, action: Action, purpose: str) -> Callable[[Principal], None]:
    def render(principal: Principal) -> None:
        components.guard(principal, action)
        st.title(title)
        st.write(purpose)
        st.info("This screen is not available yet.")
        st.caption(f"Who may use it: {components.who_may_see(action)}.")

    return render
