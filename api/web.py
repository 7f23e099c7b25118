"""The Pixel Wars web client: `GET /` and its static ES modules under `/static/`."""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).parent / "static"


@get("/", include_in_schema=False)
async def index() -> File:
    """The page; revalidated on every visit so a deploy reaches everyone at once."""
    return File(
        STATIC / "index.html",
        content_disposition_type="inline",
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )


def static_files() -> Router:
    # The modules are not fingerprinted (no build step), so browsers must revalidate them too.
    return create_static_files_router(
        path="/static",
        directories=[STATIC],
        cache_control=CacheControlHeader(no_cache=True),
    )
