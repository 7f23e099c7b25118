"""The pages: `GET /` (the landing page, or the canvas when `TESSERA_HOME=canvas`), `GET /canvas`
(the Pixel Wars client; its ES modules are under `/static/canvas/`) and its service worker.

The canvas context serves `/` because the game was `/` before there was a landing page: an old
link `/?canvas=<id>` still lands on that canvas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.response import File, Redirect

from api.web import REVALIDATE, STATIC, not_modified

_HEADERS = {
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
}


def _page(path: Path, media_type: str = "text/html", **headers: str) -> File:
    return File(
        path,
        filename=path.name,
        content_disposition_type="inline",
        media_type=media_type,
        headers=_HEADERS | headers,
    )


@get("/", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def index(request: Request[Any, Any, Any]) -> File | Redirect:
    """What is here (or, as configured, the canvas itself)."""
    if "canvas" in request.query_params:  # a link from before the landing page
        return Redirect(f"/canvas?{request.url.query}")
    if request.app.state.settings.home == "canvas":
        return _page(STATIC / "canvas" / "index.html")
    return _page(STATIC / "landing.html")


@get("/canvas", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def canvas_page() -> File:
    """The game: `?canvas=<id>` keeps the page on one canvas, `?x=&y=&zoom=` shows a place."""
    return _page(STATIC / "canvas" / "index.html")


@get("/replay", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def replay_page() -> File:
    """A canvas's history played back (`?canvas=<id>`, else the current game; `&version=`). Not
    under `/canvas`: the canvas's service worker answers every page of its scope with the game."""
    return _page(STATIC / "replay" / "index.html")


@get(
    "/canvas-sw.js", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE
)
async def canvas_worker() -> File:
    """The canvas's service worker, served from the root so that its scope may be `/canvas`
    (and never `/desk/`, which has a worker of its own)."""
    return _page(STATIC / "canvas" / "sw.js", "text/javascript")
