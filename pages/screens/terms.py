"""Terms of use: accepted at the first sign-in and again whenever their version changes."""

from __future__ import annotations

import streamlit as st

from pages.common import components, runtime
from services.identity import terms
from services.principals import Principal


def _accept() -> None:
    principal = runtime.current_principal()
    if principal is not None and st.session_state.get("terms_read"):
        terms.accept(runtime.database(), principal)


def render(principal: Principal) -> None:
    components.guard(principal, None)
    st.title("Terms of use")
    st.caption(f"Version {terms.current_version()}. Please read and accept them to continue.")
    with st.container(border=True):
        st.text(terms.TERMS_TEXT)
    st.checkbox("I have read and accept the terms of use", key="terms_read")
    st.button("Accept and continue", type="primary", on_click=_accept,
              disabled=not st.session_state.get("terms_read"), key="terms_accept")
