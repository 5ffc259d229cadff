"""ResultsDesk entry point: resume the session, then show the screens the user's roles allow."""

import streamlit as st

from pages import navigation
from pages.common import components, runtime, session_cookie
from pages.screens import staff_sign_in

st.set_page_config(page_title="ResultsDesk", page_icon="📋", layout="wide")
components.focus_ring()

# Back from the staff identity provider, the second way in opens the session here.
principal = runtime.current_principal() or staff_sign_in.complete()
current = st.navigation(navigation.pages_for(principal), expanded=True)
if session_cookie.hand_over():  # just signed in: the browser collects its cookie first
    st.stop()
if principal is not None:
    navigation.sidebar(principal)
    navigation.audit_refused_address(principal)
    runtime.watch_idle_timeout()
current.run()
