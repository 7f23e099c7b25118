"""The Artel Billiards Mini App: `GET /billiards` and every path under it is the one page; its
modules are under `/static/billiards/` and read where they are from the URL."""

from __future__ import annotations

from litestar import get
from litestar.response import File

from api.web import REVALIDATE, STATIC, not_modified

_PAGE = STATIC / "billiards" / "index.html"


@get(
    ["/billiards", "/billiards/{rest:path}"],
    include_in_schema=False,
    middleware=[not_modified],
    cache_control=REVALIDATE,
)
async def billiards_page() -> File:
    return File(
        _PAGE,
        filename="index.html",
        content_disposition_type="inline",
        media_type="text/html",
        headers={"Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"},
    )
