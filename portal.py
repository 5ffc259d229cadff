"""The ResultsDesk server: app.py served through st.App with the session-cookie routes and the
security headers. Start it with `streamlit run portal.py` (make run does)."""

import streamlit as st
from starlette.middleware import Middleware

from pages.common import security_headers, session_routes

app = st.App("app.py", routes=session_routes.ROUTES,
             middleware=[Middleware(security_headers.SecurityHeaders)])
