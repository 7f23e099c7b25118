"""Cross-origin rules of the relay's v1 API and socket (`TESSERA_RELAY_CORS_ORIGINS`), apart from
the rest of the service's: game pages on any origin may call a relay."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection

from api.errors import relay_v1_error
from api.relay.parts import RelayParts, provide_relay
from infra.settings import Settings

ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOWED_HEADERS = "Content-Type, Authorization, X-Api-Key"


def origin_allowed(settings_origins: str, origin: str | None) -> bool:
    if origin is None:
        return True  # not a browser
    allowed = Settings.split(settings_origins)
    return "*" in allowed or origin in allowed


def cors_headers(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, str]:
    parts: RelayParts = provide_relay(connection.app.state)
    origin = connection.headers.get("origin")
    if origin is None or not origin_allowed(parts.settings.cors_origins, origin):
        return {}
    allowed = Settings.split(parts.settings.cors_origins)
    return {
        "Access-Control-Allow-Origin": "*" if "*" in allowed else origin,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Vary": "Origin",
    }


def relay_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The v1 error body (`api.errors.relay_v1_error`), with the CORS headers."""
    response = relay_v1_error(request, error)
    response.headers.update(cors_headers(request))
    return response
