"""Every refusal as one status code and a JSON body `{"error": code, "detail": …}`."""

from __future__ import annotations

import logging
import math
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from commands.canvas.canvases import CanvasNotFound
from commands.writer import StoreUnavailable, WriterBusy, WriterStopped
from commands.writer_thread import unavailable
from domain.account import (
    AccountBanned,
    AccountError,
    AccountNotFound,
    IdentityTaken,
    InvalidName,
    LastIdentity,
    UnknownRole,
)
from domain.canvas import (
    CanvasClosed,
    CanvasError,
    CooldownActive,
    InvalidCanvas,
    PixelOutOfBounds,
    UnknownColour,
)
from infra.identity.google import GoogleAuthError
from infra.identity.telegram import TelegramAuthError
from infra.identity.tokens import InvalidToken

log = logging.getLogger(__name__)

_CANVAS_STATUS: dict[type[CanvasError], int] = {
    CanvasNotFound: 404,
    PixelOutOfBounds: 422,
    UnknownColour: 422,
    InvalidCanvas: 422,
    CanvasClosed: 409,
    CooldownActive: 429,
}

_ACCOUNT_STATUS: dict[type[AccountError], int] = {
    AccountNotFound: 404,
    AccountBanned: 403,
    IdentityTaken: 409,
    LastIdentity: 409,
    UnknownRole: 422,
    InvalidName: 422,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(HTTPException):
    """An error raised by a handler, with its wire code and any extra fields."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(status_code=status, detail=detail)
        self.code = code
        self.fields = extra


def error_response(status: int, code: str, detail: Any, **extra: Any) -> Response[Any]:
    headers = {}
    if status in (429, 503) and "wait_ms" in extra:
        headers["Retry-After"] = str(max(1, math.ceil(extra["wait_ms"] / 1000)))
    return Response(
        {"error": code, "detail": detail, **extra},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def handle_canvas_error(_: Request[Any, Any, Any], error: CanvasError) -> Response[Any]:
    status = next((code for kind, code in _CANVAS_STATUS.items() if isinstance(error, kind)), 400)
    extra = {"wait_ms": error.wait_ms} if isinstance(error, CooldownActive) else {}
    return error_response(status, error.code, str(error), **extra)


def handle_account_error(_: Request[Any, Any, Any], error: AccountError) -> Response[Any]:
    status = next((c for kind, c in _ACCOUNT_STATUS.items() if isinstance(error, kind)), 400)
    return error_response(status, error.code, str(error))


def handle_sign_in_error(
    _: Request[Any, Any, Any], error: InvalidToken | GoogleAuthError | TelegramAuthError
) -> Response[Any]:
    # The reason is safe to tell (it never quotes the token); the token itself never is.
    return error_response(401, error.code, str(error))


def handle_http_error(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, ApiError):
        return error_response(error.status_code, error.code, error.detail, **error.fields)
    if isinstance(error, ValidationException):
        detail: Any = error.detail
        if error.extra:
            detail = {"message": error.detail, "problems": error.extra}
        return error_response(400, "invalid_request", detail)
    code = _HTTP_CODES.get(error.status_code, "error")
    return error_response(error.status_code, code, error.detail)


def database_away(error: Exception) -> bool:
    """The event store or the read models could not be reached (not a bug of ours)."""
    return unavailable(error) or isinstance(
        error,
        (
            ConnectionError,  # no connection could be opened, or it broke
            asyncpg.PostgresConnectionError,
            asyncpg.CannotConnectNowError,
            asyncpg.AdminShutdownError,
            asyncpg.TooManyConnectionsError,
        ),
    )


def handle_unexpected(_: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    if isinstance(error, WriterStopped):
        return error_response(503, "unavailable", "the service is shutting down")
    if database_away(error):
        log.warning("a request met the database away: %r", error)
        return error_response(
            503, "unavailable", "the database is unavailable: try again shortly", wait_ms=2000
        )
    if isinstance(error, StoreUnavailable):
        return error_response(503, "try_again", f"{error}: send it again", wait_ms=2000)
    if isinstance(error, WriterBusy):
        return error_response(
            503, "try_again", "another node kept writing here first: send it again", wait_ms=1000
        )
    log.exception("unhandled error", exc_info=error)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "internal error")


EXCEPTION_HANDLERS = {
    CanvasError: handle_canvas_error,
    AccountError: handle_account_error,
    InvalidToken: handle_sign_in_error,
    GoogleAuthError: handle_sign_in_error,
    TelegramAuthError: handle_sign_in_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected,
}
