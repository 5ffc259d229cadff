"""The ResultsDesk server: app.py served through st.App with the session-cookie routes, the
streamed bundle downloads (/bundles/<token>), the security headers and, unless
RESULTSDESK_INLINE_JOBS=0, the scheduled jobs in its lifespan. Start it with
`streamlit run portal.py` (make run does)."""

import os
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from commands.inline_jobs import InlineJobs
from pages.common import bundle_route, security_headers, session_routes
from services import settings
from services.reports import report_files


def _served_address() -> str:
    """Where this server answers, for links in emails when RESULTSDESK_PORTAL_URL is not set."""
    host = st.get_option("server.address") or "localhost"
    if host in ("0.0.0.0", "::", "127.0.0.1"):
        host = "localhost"
    return f"http://{host}:{st.get_option('server.port')}"


@asynccontextmanager
async def lifespan(_app):
    # Settings read the environment at call time, so every email link built from now on names
    # the port this server really listens on.
    report_files.key_source()  # a deployment without a report-file key does not start
    if not os.environ.get("RESULTSDESK_PORTAL_URL"):
        os.environ["RESULTSDESK_PORTAL_URL"] = _served_address()
    jobs = InlineJobs() if settings.current().inline_jobs else None
    if jobs is not None:
        jobs.start()
    try:
        yield
    finally:
        if jobs is not None:
            jobs.stop()


# Streamlit treats a `pages/` folder beside app.py as its older page folder until app.py has called
# st.navigation once in this process: the first request for /<screen> would run pages/<screen>.py
# without app.py's sign-in gate, or answer "Page not found" and drop the address the person asked
# for (an emailed report link). Every screen here is registered through st.navigation, so the
# folder is never a page folder. tests/e2e/test_deep_link_flow.py checks a fresh server.
PagesManager.uses_pages_directory = False

app = st.App("app.py", routes=[*session_routes.ROUTES, *bundle_route.ROUTES], lifespan=lifespan,
             middleware=[Middleware(security_headers.SecurityHeaders)])
