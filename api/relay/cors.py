"""Cross-origin rules of the relay's v1 API and socket (`TESSERA_RELAY_CORS_ORIGINS`), apart from
the rest of the service's: game pages on any origin may call a relay. A middleware of the relay's
router, so that every answer under it carries them: handlers', errors' and Litestar's own
preflight answers (`OPTIONS`)."""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.relay.parts import RelayParts
from infra.settings import Settings

ALLOWED_METHODS = b"GET, POST, DELETE, OPTIONS"
ALLOWED_HEADERS = b"Content-Type, Authorization, X-Api-Key"


def origin_allowed(origins: str, origin: str | None) -> bool:
    if origin is None:
        return True  # not a browser
    allowed = Settings.split(origins)
    return "*" in allowed or origin in allowed


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def cors(app: ASGIApp) -> ASGIApp:
    async def with_cors(scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await app(scope, receive, send)
            return
        parts: RelayParts = scope["litestar_app"].state["relay"]
        origins = parts.settings.cors_origins
        if not origin_allowed(origins, origin.decode("latin-1")):
            await app(scope, receive, send)
            return
        allow = b"*" if "*" in Settings.split(origins) else origin
        added: list[tuple[bytes, bytes]] = [
            (b"access-control-allow-origin", allow),
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-allow-headers", ALLOWED_HEADERS),
            (b"vary", b"Origin"),
        ]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Any = message.get("headers") or []
                message["headers"] = [*headers, *added]  # type: ignore[typeddict-unknown-key]
            await send(message)

        await app(scope, receive, send_with_cors)

    return with_cors
