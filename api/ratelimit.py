"""The per-IP rate limits on the API, as ASGI middleware (the buckets: `infra/ratelimit.py`):
commands (unsafe methods) take from one bucket, reads from another, more generous one."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from api.errors import error_body, refusal
from infra.ratelimit import Limiter, RateLimited

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def per_ip(commands: Limiter, reads: Limiter) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: every request under /api/ takes a token of its IP, a command (an unsafe
    method) from `commands`, anything else from `reads`. Pages, static files and WebSockets
    take none."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/api/"):
                limiter = commands if scope.get("method") in UNSAFE_METHODS else reads
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
