"""The route a bundle download link points at: GET /bundles/<token>.

Thin on purpose: services.reports.bundle_links decides (the link, the person's session from the
cookie, scope, audit) and packs; this only reads the cookie, hands the pieces to the browser as
they come, and turns a refusal into a short page saying what to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from pages.common import runtime
from pages.common.session_cookie import COOKIE_NAME
from services.errors import PermissionDenied
from services.reports import bundle_links

BUNDLE_ROUTE = "/bundles"
_TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_NOT_ALLOWED = ("You do not have permission to download these reports. "
                "Go back to Reports, or ask your administrator.")


def url_for(token: str) -> str:
    return f"{BUNDLE_ROUTE}/{token}"


def _refusal(text: str, status: int) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers={"Cache-Control": "no-store"})


async def _in_order(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The packer's pieces, each made in a worker thread. When the browser goes away the
    packer is closed here at once, so it records how far the download got."""
    done = object()
    try:
        while (chunk := await run_in_threadpool(next, chunks, done)) is not done:
            yield chunk
    finally:
        # A few milliseconds of database work on the event loop: by now no thread is packing.
        chunks.close()


async def download(request: Request) -> Response:
    if request.method != "GET":
        # Starlette answers HEAD on a GET route too; a HEAD must not spend the link.
        return _refusal("Open this link in your browser to download.", 405)
    token = request.path_params["token"]
    if not token or len(token) > 100 or set(token) - _TOKEN_CHARS:
        return _refusal(bundle_links.LinkRefused.GONE, 410)
    try:
        bundle = await run_in_threadpool(bundle_links.open_stream, runtime.database(), token,
                                         request.cookies.get(COOKIE_NAME), runtime.blob_store())
    except bundle_links.LinkRefused as refused:
        return _refusal(str(refused), 410 if refused.gone else 403)
    except PermissionDenied:
        return _refusal(_NOT_ALLOWED, 403)
    return StreamingResponse(_in_order(bundle.chunks), media_type=bundle.mime_type, headers={
        "Content-Disposition": f"attachment; filename=\"{bundle.file_name}\"; "
                               f"filename*=UTF-8''{quote(bundle.file_name)}",
        "Cache-Control": "no-store",
        # Already compressed (stored PDFs): marked so the server's gzip layer passes it through.
        "Content-Encoding": "identity",
    })


ROUTES = [Route(f"{BUNDLE_ROUTE}/{{token}}", download, methods=["GET"])]
