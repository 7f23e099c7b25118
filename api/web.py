"""The web clients' static files under `/static/` (each context's pages live in its package),
revalidated on every visit."""

from __future__ import annotations

import functools
from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.conditional import names, wanted_tags

STATIC = Path(__file__).parent / "static"

# The modules are not fingerprinted (no build step): browsers revalidate every file on every
# visit, and an unchanged one costs a 304.
REVALIDATE = CacheControlHeader(no_cache=True)
_DROPPED_ON_304 = {b"content-length", b"content-type", b"content-disposition"}


def not_modified(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: a 200 whose ETag the request's `If-None-Match` names becomes a bodiless
    304 (Litestar's file responses send ETags but do not answer conditional requests)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        wanted = _if_none_match(scope) if scope["type"] == "http" else set()
        if not wanted:
            await app(scope, receive, send)
            return
        unchanged = False

        async def sending(message: Message) -> None:
            nonlocal unchanged
            if message["type"] == "http.response.start":
                headers = dict(message["headers"])
                etag = headers.get(b"etag", b"").decode("latin-1")
                if message["status"] == 200 and names(wanted, etag):
                    unchanged = True
                    kept = [(k, v) for k, v in message["headers"] if k not in _DROPPED_ON_304]
                    message = {"type": "http.response.start", "status": 304, "headers": kept}
                await send(message)
            elif not unchanged:
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await app(scope, receive, sending)

    return middleware


def _if_none_match(scope: Scope) -> set[str]:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return wanted_tags(value.decode("latin-1"))
    return set()


@functools.cache
def not_found_page() -> bytes:
    """The HTML page of an address that does not exist (`api.errors.handle_error` sends it)."""
    return (STATIC / "404.html").read_bytes()


def static_files() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[STATIC],
        cache_control=REVALIDATE,
        middleware=[not_modified],
    )
