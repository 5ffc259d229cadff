"""The two HTTP routes of the session cookie: collect it after sign-in, clear it at sign-out.

Thin on purpose: the services decide (services.identity.session_handoff, services.identity.sessions); these only
read the form, set or clear the cookie and redirect. Both take POST from the portal's own page
only (Sec-Fetch-Site, or the Origin, must say so), and redirect only to a path on this site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from streamlit import config

from pages.common import runtime
from pages.common.session_cookie import (
    COOKIE_NAME,
    FORGET,
    REMEMBER_COOKIE,
    SESSION_ROUTE,
    SIGN_OUT_ROUTE,
    decode_email,
    encode_email,
)
from services import settings
from services.errors import HandoffRefused
from services.identity import session_handoff, sessions
from services.mail import addresses

# How long "Remember me" keeps the address on a device.
REMEMBER_DAYS = 30

# Streamlit's own cookies of a staff sign-in (st.login): the identity and the provider's tokens,
# each split into numbered chunks (<name>_1, <name>_2...) when large. Named as in
# streamlit/web/server/starlette/starlette_server_config.py (USER_COOKIE_NAME, TOKENS_COOKIE_NAME).
IDENTITY_COOKIES = ("_streamlit_user", "_streamlit_user_tokens")

# The sign-in screen reads these and shows the matching notice.
SIGNED_OUT = "/?notice=signed-out"
HANDOFF_REFUSED = "/?notice=sign-in-expired"


def same_site_path(value: str | None) -> str:
    """The path to go back to, if it is a plain path on this site; otherwise the home page."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 for c in value):
        return "/"
    return value


def _from_this_site(request: Request) -> bool:
    # Browsers say where a request comes from in Sec-Fetch-Site, which no page can forge. The
    # Origin is the fallback: under Referrer-Policy no-referrer a same-origin form sends
    # "Origin: null", so that header alone cannot tell.
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    return bool(origin) and urlsplit(origin).netloc == request.headers.get("host")


def _cookie_attributes() -> dict:
    # No Max-Age or Expires: closing the browser ends the cookie.
    return {"path": "/", "httponly": True, "secure": settings.current().cookie_secure,
            "samesite": "strict"}


async def collect_session(request: Request) -> Response:
    """Trade a one-time code for the session cookie, then go back where the browser was."""
    if not _from_this_site(request):
        return PlainTextResponse("Refused.", status_code=403)
    form = await request.form()
    try:
        token = await run_in_threadpool(session_handoff.exchange, runtime.database(),
                                        code=str(form.get("code") or ""))
    except HandoffRefused:
        return RedirectResponse(HANDOFF_REFUSED, status_code=303)
    response = RedirectResponse(same_site_path(str(form.get("next") or "")), status_code=303)
    response.set_cookie(COOKIE_NAME, token, **_cookie_attributes())
    _remember_email(str(form.get("remember") or ""), response)
    return response


def _remember_email(asked: str, response: Response) -> None:
    """Keep the signed-in address for the next sign-in's form, or drop a kept one."""
    if asked == FORGET:
        response.delete_cookie(REMEMBER_COOKIE, **_cookie_attributes())
        return
    address = decode_email(asked)
    if address and addresses.is_valid(address):
        response.set_cookie(REMEMBER_COOKIE, encode_email(address), max_age=REMEMBER_DAYS * 86400,
                            **_cookie_attributes())


async def sign_out(request: Request) -> Response:
    """End the session named by the cookie, clear it and any staff sign-in identity Streamlit
    keeps, show the sign-in screen."""
    if not _from_this_site(request):
        return PlainTextResponse("Refused.", status_code=403)
    token = request.cookies.get(COOKIE_NAME)
    if token:
        await run_in_threadpool(sessions.end, runtime.database(), token)
    response = RedirectResponse(SIGNED_OUT, status_code=303)
    response.delete_cookie(COOKIE_NAME, **_cookie_attributes())
    _clear_identity_cookies(request, response)
    return response


def identity_cookies_in(cookie_names) -> list[str]:
    """Which of these cookies hold a staff sign-in's identity (whole or in chunks)."""
    return [name for name in cookie_names
            if any(name == base or (name.startswith(f"{base}_") and name[len(base) + 1:].isdigit())
                   for base in IDENTITY_COOKIES)]


def _clear_identity_cookies(request: Request, response: Response) -> None:
    # Left in place, Streamlit's identity would still say "signed in" for 30 days; it opens no
    # ResultsDesk session by itself (services.identity.staff_sso), but after sign-out the
    # browser should hold nothing of it. Streamlit sets them on its base path.
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    paths = {f"/{base}" if base else "/", "/"}
    for name in identity_cookies_in(request.cookies):
        for path in paths:
            response.delete_cookie(name, path=path, httponly=True, samesite="lax")


ROUTES = [
    Route(SESSION_ROUTE, collect_session, methods=["POST"]),
    Route(SIGN_OUT_ROUTE, sign_out, methods=["POST"]),
]
