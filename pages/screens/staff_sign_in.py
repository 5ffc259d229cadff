"""Staff sign-in through the company's OpenID provider (st.login), beside the password form.

Streamlit does the OpenID part: Staff sign-in sends the browser to the provider, Streamlit's
/oauth2callback checks what comes back (issuer, audience, signature, nonce) and keeps the
identity in its own signed HttpOnly cookie, read here as st.user. ResultsDesk then decides
(services.identity.staff_sso) and opens its own server-side session, exactly as after a password
sign-in; that session, not Streamlit's cookie, is what keeps a person signed in. Sign-out
(pages/common/session_routes.py) clears both.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pages.common import runtime, session_cookie
from services.errors import StaffSignInRefused
from services.identity import staff_sso
from services.principals import Principal

_REFUSED_KEY = "staff_sign_in_refused"
# The provider answer this tab has already handed to the service: a rerun does not ask again.
_LOOKED_AT_KEY = "staff_sign_in_looked_at"
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
DEFAULT_PROVIDER = "default"


def _auth_section() -> Mapping | None:
    """Streamlit's [auth] secrets (secrets.toml, the secrets.files option, st.App(secrets=))."""
    try:
        if not st.secrets.load_if_toml_exists():
            return None
        auth = st.secrets.get("auth")
    except Exception:  # an unreadable secrets file means no identity provider, as for st.login
        return None
    return auth if isinstance(auth, Mapping) else None


def provider() -> str | None:
    """The provider st.login is to use, when [auth] names exactly one complete provider."""
    auth = _auth_section()
    if auth is None or not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return None
    if all(auth.get(key) for key in _PROVIDER_KEYS):
        return DEFAULT_PROVIDER
    named = [name for name, section in auth.items()
             if isinstance(section, Mapping) and all(section.get(key) for key in _PROVIDER_KEYS)]
    return named[0] if len(named) == 1 else None


def render_button() -> None:
    """The "Staff sign-in" button, shown only when an identity provider is configured."""
    name = provider()
    if name is None:
        return
    st.caption("ResultsDesk staff can sign in with their company work account instead.")
    if st.button("Staff sign-in", key="staff_sign_in"):
        st.session_state.pop(_REFUSED_KEY, None)
        # Always to the provider, even while Streamlit still holds an identity from earlier:
        # only a new answer opens a session.
        st.login(None if name == DEFAULT_PROVIDER else name)
    refused = st.session_state.get(_REFUSED_KEY)
    if refused:
        st.error(refused)


def complete() -> Principal | None:
    """After the identity provider sent the browser back: open the ResultsDesk session, remember
    it in this tab and schedule the cookie hand-off, like a password sign-in; None otherwise."""
    if provider() is None:
        return None
    claims = st.user.to_dict()
    if claims.get("is_logged_in") is not True:
        return None
    answer = "\n".join(str(claims.get(name, "")) for name in ("iss", "sub", "iat", "nonce"))
    if st.session_state.get(_LOOKED_AT_KEY) == answer:
        return None
    st.session_state[_LOOKED_AT_KEY] = answer
    try:
        signed_in = staff_sso.sign_in(runtime.database(), claims=claims)
    except StaffSignInRefused as refused:
        st.session_state[_REFUSED_KEY] = str(refused)
        return None
    if signed_in is None:
        return None
    st.session_state.pop(_REFUSED_KEY, None)
    st.session_state.pop(runtime.NOTICE_KEY, None)
    runtime.remember_session(signed_in.token)
    session_cookie.schedule_handoff(signed_in.handoff_code)
    return signed_in.principal
