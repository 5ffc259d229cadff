"""The browser cookie that carries the session token across refreshes and new tabs.

Streamlit reads request cookies (st.context.cookies) but cannot set them, so a tiny inline
component writes document.cookie. The value is an opaque random token, useless once the
server-side session ends. It is a browser-session cookie (no Max-Age: closing the browser
drops it) and SameSite=Strict keeps it off cross-site requests.
"""

from __future__ import annotations

import streamlit as st

from services import settings

COOKIE_NAME = "resultsdesk_session"
_CLEAR_KEY = "session_cookie_clear"

# Clearing only removes the cookie if it still holds the ended token: another tab may have
# signed in since and written a new one.
_JS = """
export default function(component) {
  const { data } = component;
  if (!data || !data.name) return;
  const attributes = "; Path=/; SameSite=Strict" + (data.secure ? "; Secure" : "");
  if (data.value) {
    document.cookie = `${data.name}=${data.value}${attributes}`;
    return;
  }
  const current = document.cookie.split("; ").find((c) => c.startsWith(`${data.name}=`));
  if (current && current.slice(data.name.length + 1) === data.ended) {
    document.cookie = `${data.name}=${attributes}; Max-Age=0`;
  }
}
"""

_writer = st.components.v2.component("resultsdesk_session_cookie", js=_JS)


def read() -> str | None:
    value = st.context.cookies.get(COOKIE_NAME)
    # Only a string is a token (AppTest, for one, has no real request cookies).
    return value if isinstance(value, str) and value else None


def schedule_clear(ended_token: str) -> None:
    st.session_state[_CLEAR_KEY] = ended_token


def sync(token: str | None) -> None:
    """Make the browser's cookie match this session; app.py calls it once per run."""
    ended = st.session_state.pop(_CLEAR_KEY, "")
    if not token and not ended:
        return
    # Mounted on every signed-in run with the same data, so the write also survives a
    # rerun that happens before the browser has drawn the first one.
    _writer(data={"name": COOKIE_NAME, "value": token or "", "ended": ended,
                  "secure": settings.current().cookie_secure},
            key="session_cookie", height=0)
