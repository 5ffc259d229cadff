"""The security headers every response carries, set by the app itself (a bare `make run` too).

deploy/nginx.conf sets the same table (tests/security/test_security_headers.py keeps the two
equal) and hides the app's copies, so a response through the proxy carries each header once.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# script-src keeps 'unsafe-inline' and 'unsafe-eval' because Streamlit's own frontend needs them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' wss:; frame-ancestors 'none'")

HEADERS = {
    # Browsers ignore it over plain http (a local `make run`); kept identical to the proxy's.
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_ENCODED = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]
_NAMES = {name for name, _ in _ENCODED}


class SecurityHeaders:
    """Plain ASGI middleware (no response buffering: streamed media and downloads stay streamed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in _NAMES]
                message = {**message, "headers": kept + _ENCODED}
            await send(message)

        await self.app(scope, receive, send_with_headers)
