"""A page of the Mini App as a QR code (SVG, drawn here by `segno`): an invite link to show on
one phone and scan with another."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from litestar import Request, Response, get
from litestar.params import QueryParameter

QR_PATH = r"^/billiards/[A-Za-z0-9/_.~%?=&-]{0,400}$"


@get("/api/billiards/qr.svg", media_type="image/svg+xml", tags=("billiards",))
async def qr_code(
    request: Request[Any, Any, Any],
    path: Annotated[str, QueryParameter(pattern=QR_PATH, max_length=420)],
) -> Response[bytes]:
    """`path` (a page under `/billiards/`, e.g. `/billiards/join/<id>?invite=…`) on this
    server, as a QR code."""
    url = str(request.base_url).rstrip("/") + path
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, dark="#000",
                                    light="#fff", xmldecl=False)
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})
