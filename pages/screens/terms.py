"""Terms of use: accepted at the first sign-in and again whenever their version changes."""

from __future__ import annotations

import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from services.identity import terms
from services.principals import Principal

# Session state: the "I have read" box.
_READ_KEY = "terms_read"


def _accept() -> None:
    # The button is offered only once the box is ticked; the click checks again.
    run_action(lambda principal: terms.accept(runtime.database(), principal)
               if st.session_state.get(_READ_KEY) else None)


def render(principal: Principal) -> None:
    components.guard(principal, None)
    st.title("Terms of use")
    st.caption(f"Version {terms.current_version()}. Please read and accept them to continue.")
    with st.container(border=True):
        st.text(terms.TERMS_TEXT)
    st.checkbox("I have read and accept the terms of use", key=_READ_KEY)
    st.button("Accept and continue", type="primary", on_click=_accept,
              disabled=not st.session_state.get(_READ_KEY), key="terms_accept")
