"""Links from one screen to another: the screens of this run, by address.

st.page_link needs the page object st.navigation was given in the same run; screens cannot import
the navigation (it imports them), so it leaves its pages here.
"""

from __future__ import annotations

import streamlit as st

_PAGES_KEY = "navigation_pages"


def remember(pages: list[st.Page]) -> None:
    st.session_state[_PAGES_KEY] = {page.url_path: page for page in pages}


def page(url_path: str) -> st.Page | None:
    """The screen at that address in this run's navigation; None when the user does not have it."""
    return st.session_state.get(_PAGES_KEY, {}).get(url_path)
