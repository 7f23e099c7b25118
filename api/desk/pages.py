"""The sticker desks' web client: `GET /desk` (create or open by name) and `GET /desk/{id}`
(the desk; its modules read the id from the URL), and `GET /desk/sw.js`, the service worker that
keeps them for offline use (scope `/desk`). Modules under `/static/desk/`."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.params import FromPath
from litestar.response import File

from api.web import REVALIDATE, STATIC, not_modified

_PAGES = STATIC / "desk"
_HEADERS = {
    # the link id is the desk's secret: never hand it to another site
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def _page(path: Path) -> File:
    return File(
        path,
        filename=path.name,
        content_disposition_type="inline",
        media_type="text/html",
        headers=_HEADERS,
    )


@get("/desk", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def desk_start() -> File:
    """Create a desk or open one by name."""
    return _page(_PAGES / "start.html")


@get(
    "/desk/{desk_id:str}",
    include_in_schema=False,
    middleware=[not_modified],
    cache_control=REVALIDATE,
)
async def desk_page(desk_id: FromPath[str]) -> File:
    """A desk; an unknown or expired id is told on the page, by the API."""
    del desk_id
    return _page(_PAGES / "index.html")


@get("/desk/sw.js", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def desk_worker() -> File:
    """The desks' service worker, allowed the scope `/desk` (both pages) though it is served
    from under `/desk/`."""
    path = _PAGES / "sw.js"
    return File(
        path,
        filename=path.name,
        content_disposition_type="inline",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/desk", "X-Content-Type-Options": "nosniff"},
    )
