"""The browser cookie that carries the session token across refreshes and new tabs.

Only the server writes it (pages/common/session_routes.py), HttpOnly, so no script on the page
can read it. After a successful sign-in this screen hands the browser a one-time code in a
small form that posts itself to /auth/session; the response sets the cookie and sends the
browser back to where it was, where a new Streamlit session resumes from the cookie. Sign-out
is a form too, posted to /auth/sign-out, which ends the session and clears the cookie.
"""

from __future__ import annotations

import base64
from html import escape
from urllib.parse import urlencode, urlsplit

import streamlit as st

COOKIE_NAME = "resultsdesk_session"
# "Remember me": only the email address, for the sign-in form's first field (never a session).
REMEMBER_COOKIE = "resultsdesk_email"
FORGET = "-"
SESSION_ROUTE = "/auth/session"
SIGN_OUT_ROUTE = "/auth/sign-out"
_HANDOFF_KEY = "session_handoff"

# The one script: it submits the form the browser would otherwise wait on a press for.
_HANDOFF_FORM = """<form id="resultsdesk-handoff" method="post" action="{action}">
<input type="hidden" name="code" value="{code}"><input type="hidden" name="next" value="{next}">{remember}
<p>Signing you in&hellip;</p><button type="submit">Continue to ResultsDesk</button></form>
<script>document.getElementById("resultsdesk-handoff").submit();</script>"""

_SIGN_OUT_FORM = """<form method="post" action="{action}">
<button type="submit" style="font: inherit; padding: 0.25rem 0.75rem; border-radius: 0.5rem;
border: 1px solid rgba(49, 51, 63, 0.2); background: white; cursor: pointer;">Sign out</button></form>"""


def encode_email(address: str) -> str:
    # Cookie values keep to plain characters; base64url carries any address unchanged.
    return base64.urlsafe_b64encode(address.encode("utf-8")).decode("ascii").rstrip("=")


def decode_email(value: str | None) -> str | None:
    if not isinstance(value, str) or not value or len(value) > 400:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def remembered_email() -> str | None:
    """The address "Remember me" kept on this device, if any."""
    return decode_email(st.context.cookies.get(REMEMBER_COOKIE))


def read() -> str | None:
    value = st.context.cookies.get(COOKIE_NAME)
    # Only a string is a token (AppTest, for one, has no real request cookies).
    return value if isinstance(value, str) and value else None


def _current_path() -> str:
    """The address this tab shows, with its query (st.context.url leaves the query out): an
    emailed ?report= link opened signed out still opens that report once signed in."""
    url = st.context.url
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.path.startswith("/"):
        return "/"
    query = urlencode(st.query_params.to_dict())
    return parts.path + (f"?{query}" if query else "")


def schedule_handoff(code: str, *, remember_email: str | None = None) -> None:
    """After a sign-in: the next run sends the browser to collect its cookie.

    remember_email: the address to keep for the next sign-in ("Remember me"), FORGET to drop a
    kept one, None to leave it as it is."""
    st.session_state[_HANDOFF_KEY] = (code, remember_email)


def hand_over() -> bool:
    """Show the self-posting hand-off form if a sign-in just happened; True when shown."""
    code, remember = st.session_state.pop(_HANDOFF_KEY, (None, None))
    if not code:
        return False
    kept = "" if remember is None else (
        f'<input type="hidden" name="remember" value="{escape(remember, quote=True)}">')
    st.html(_HANDOFF_FORM.format(action=SESSION_ROUTE, code=escape(code, quote=True),
                                 next=escape(_current_path(), quote=True), remember=kept),
            unsafe_allow_javascript=True)
    return True


def sign_out_button() -> None:
    """A plain form: the browser posts it, the server ends the session and clears the cookie."""
    st.html(_SIGN_OUT_FORM.format(action=SIGN_OUT_ROUTE))
