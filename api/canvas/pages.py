"""The Pixel Wars web client: `GET /`; its ES modules are under `/static/canvas/`."""

from __future__ import annotations

from litestar import get
from litestar.response import File

from api.web import REVALIDATE, STATIC, not_modified


@get("/", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def index() -> File:
    """The page."""
    return File(
        STATIC / "canvas" / "index.html",
        filename="index.html",
        content_disposition_type="inline",
        media_type="text/html",
        headers={
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )
