"""The per-IP rate limit on commands, as ASGI middleware (the buckets: `infra/ratelimit.py`)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from api.errors import error_body, refusal
from infra.ratelimit import Limiter, RateLimited

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def per_ip(limiter: Limiter) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: every command (an unsafe method under /api/) takes a token of its IP."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and scope.get("method") in UNSAFE_METHODS
                and scope["path"].startswith("/api/")
            ):
                client = scope.get("client")
                try:
                    limiter.take(client[0] if client else "unknown")
                except RateLimited as limited_by:
                    await _refuse(send, limited_by)
                    return
            await app(scope, receive, send)

        return limited

    return middleware


async def _refuse(send: Send, limited: RateLimited) -> None:
    told = refusal(limited)
    body = msgspec.json.encode(error_body(told.code, told.detail, **told.extra))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": told.kind.status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(max(1, -(-limited.wait_ms // 1000))).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
