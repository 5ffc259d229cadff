"""ResultsDesk entry point: resume the session, then show the screens the user's roles allow."""

import streamlit as st

from pages import navigation
from pages.common import components, runtime, session_cookie

st.set_page_config(page_title="ResultsDesk", page_icon="📋", layout="wide")
components.focus_ring()

principal = runtime.current_principal()
current = st.navigation(navigation.pages_for(principal), expanded=True)
if session_cookie.hand_over():  # just signed in: the browser collects its cookie first
    st.stop()
if principal is not None:
    navigation.sidebar(principal)
    navigation.audit_refused_address(principal)
    runtime.watch_idle_timeout()
current.run()
