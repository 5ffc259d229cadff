"""Terms of use: accepted at the first sign-in and again whenever a new text is published."""

from __future__ import annotations

import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from services.identity import terms
from services.principals import Principal

# Session state: the "I have read" box.
_READ_KEY = "terms_read"


def _accept(version: str) -> None:
    # The button is offered only once the box is ticked; the click checks again.
    run_action(lambda principal: terms.accept(runtime.database(), principal, version=version)
               if st.session_state.get(_READ_KEY) else None)


def render(principal: Principal) -> None:
    components.guard(principal, None)
    current = terms.current(runtime.database())
    st.title("Terms of use")
    # The version label is typed by an admin: shown literally.
    components.literal(f"Version {current.version}. Please read and accept them to continue.")
    if principal.terms_version is not None:
        st.caption("The terms of use changed since you last accepted them.")
    with st.container(border=True):
        st.text(current.text)
    st.checkbox("I have read and accept the terms of use", key=_READ_KEY)
    st.button("Accept and continue", type="primary", on_click=_accept, args=(current.version,),
              disabled=not st.session_state.get(_READ_KEY), key="terms_accept")
