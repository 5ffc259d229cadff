"""What every screen needs from the running app: the database and the signed-in principal."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import streamlit as st

from db.blob_store import BlobStore
from db.engine import database_url
from db.migrate import open_database
from pages.common import session_cookie
from services import settings
from services.errors import SessionEnded
from services.identity import passwords, sessions, time_zone
from services.principals import Principal
from services.reports import report_files

TOKEN_KEY = "session_token"
NOTICE_KEY = "sign_in_notice"
_DEAD_COOKIE_KEY = "ended_cookie_token"
_RESUMED_THIS_RUN = "session_resumed_this_run"


@st.cache_resource(show_spinner=False)
def _database(url: str):
    passwords.prepare()
    return open_database(url)


def database():
    """The shared engine for the configured URL (the only thing kept in st.cache_resource)."""
    return _database(database_url())


def blob_store() -> BlobStore:
    return report_files.store()


def principal_at_click() -> Callable[[], Principal]:
    """For work Streamlit runs later outside the script (a download built on click).

    The returned function resumes the session again at that moment, so a download clicked after
    sign-out, expiry or a role change is refused like any other request.
    """
    db, token = database(), st.session_state.get(TOKEN_KEY)

    def resume() -> Principal:
        if not token:
            raise SessionEnded("signed_out")
        return sessions.resume(db, token)

    return resume


def _token_from_browser() -> str | None:
    token = st.session_state.get(TOKEN_KEY)
    if token:
        return token
    # A new tab or a refresh starts a new Streamlit session: the cookie carries the token over.
    cookie = session_cookie.read()
    if cookie and cookie != st.session_state.get(_DEAD_COOKIE_KEY):
        return cookie
    return None


def current_principal() -> Principal | None:
    """Resume the server-side session for this browser, or None when nobody is signed in.

    app.py calls it on every run; button callbacks (which run before app.py) and fragment
    reruns (which skip it) call it again, since a principal captured in an earlier run may
    belong to a session that has since expired, signed out or lost its role.
    """
    token = _token_from_browser()
    if token is None:
        return None
    try:
        principal = sessions.resume(database(), token)
    except SessionEnded as ended:
        _session_ended(token, ended)
        return None
    st.session_state[TOKEN_KEY] = token
    if principal.time_zone is None:
        principal = _with_browser_time_zone(principal)
    return principal


def browser_time_zone() -> str | None:
    """The IANA zone the browser reports, if any (checked by whoever stores or uses it)."""
    try:
        return st.context.timezone
    except Exception:  # outside a browser session (bare runs, some tests) there is none
        return None


def _with_browser_time_zone(principal: Principal) -> Principal:
    # The first signed-in run stores the browser's zone (UTC if it sends none); later runs, other
    # tabs and other devices show the stored one, which only My account changes.
    stored = time_zone.adopt_browser_zone(database(), principal, browser_zone=browser_time_zone())
    return dataclasses.replace(principal, time_zone=stored)


def watch_idle_timeout() -> None:
    """Now and then, without counting as activity: blank a screen whose session has ended.

    Without it an unattended tab would keep showing what it showed until someone clicked.
    It looks every minute, or twice per idle period when that is shorter.
    """
    every = min(60.0, settings.current().session_idle.total_seconds() / 2)
    # Called by app.py after it resumed the session, so this full run needs no second look.
    st.session_state[_RESUMED_THIS_RUN] = True
    st.fragment(run_every=every)(_end_screen_if_session_ended)()


def _end_screen_if_session_ended() -> None:
    # Only the timed reruns need to look; a full run resumed the session a moment ago.
    if st.session_state.pop(_RESUMED_THIS_RUN, False):
        return
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return
    try:
        sessions.resume(database(), token, activity=False)
    except SessionEnded as ended:
        _session_ended(token, ended)
        st.rerun(scope="app")


def _session_ended(token: str, ended: SessionEnded) -> None:
    forget_session(token)
    if ended.reason in SessionEnded.MESSAGES:
        st.session_state[NOTICE_KEY] = str(ended)


def remember_session(token: str) -> None:
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(_DEAD_COOKIE_KEY, None)


def forget_session(token: str | None) -> None:
    """Drop the token from this browser session (the server side is separate).

    Everything else the signed-in user left in this tab goes too (searches, pages, an open
    report, a prepared download): the next person to sign in here starts clean. The HttpOnly
    cookie stays until sign-out or the next sign-in replaces it; it opens nothing any more,
    and this tab stops offering it.
    """
    for key in list(st.session_state):
        if key not in (_DEAD_COOKIE_KEY, NOTICE_KEY):
            del st.session_state[key]
    if token:
        st.session_state[_DEAD_COOKIE_KEY] = token
