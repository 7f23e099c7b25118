"""The one error map: every refusal, whether an error class of a context or a code a handler
names, has one HTTP status and one WebSocket close code here, and nowhere else.

Over HTTP a refusal is a status and the JSON body `{"error": code, "detail": …, **extra}`; on a
socket it is an error frame with the same fields, or a close whose reason is the code. Close
codes follow the statuses (4000 + status) where a status fits.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response, WebSocket
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from commands.canvas.canvases import CanvasNotFound
from commands.desk.desks import DeskGone, DeskNotFound
from commands.text import refuses_control_characters
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
    OpReused,
    PixelOutOfBounds,
    UnknownColour,
)
from domain.desk import (
    ClockSkew,
    DeskError,
    DeskExpired,
    NotCreator,
    SequenceGap,
    TooManyStickers,
    UnknownSticker,
)
from domain.feedback import FeedbackError, FeedbackIdReused, FeedbackNotFound, InvalidFeedback
from infra.canvas.presence import RosterUnavailable
from infra.desk.reads import DeskBehind
from infra.identity.google import GoogleAuthError
from infra.identity.telegram import TelegramAuthError
from infra.identity.tokens import InvalidToken
from infra.ratelimit import RateLimited

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    status: int
    """The HTTP status."""
    close: int
    """The WebSocket close code, when the refusal ends a socket."""


def _kind(status: int, close: int | None = None) -> Kind:
    return Kind(status, 4000 + status if close is None else close)


BAD_REQUEST = _kind(400)
UNAUTHENTICATED = _kind(401)
FORBIDDEN = _kind(403)
NOT_FOUND = _kind(404)
CONFLICT = _kind(409)
GONE = _kind(410)
UNPROCESSABLE = _kind(422)
TOO_MANY = _kind(429)
UNAVAILABLE = _kind(503, close=1013)  # "try again later"

ERROR_CLASSES: dict[type[Exception], Kind] = {
    # canvas
    CanvasNotFound: NOT_FOUND,
    PixelOutOfBounds: UNPROCESSABLE,
    UnknownColour: UNPROCESSABLE,
    InvalidCanvas: UNPROCESSABLE,
    CanvasClosed: CONFLICT,
    OpReused: CONFLICT,
    CooldownActive: TOO_MANY,
    CanvasError: BAD_REQUEST,
    RosterUnavailable: UNAVAILABLE,
    # desk
    DeskNotFound: NOT_FOUND,
    DeskGone: GONE,
    DeskExpired: GONE,
    NotCreator: FORBIDDEN,
    SequenceGap: CONFLICT,
    ClockSkew: CONFLICT,
    UnknownSticker: CONFLICT,
    TooManyStickers: CONFLICT,
    DeskError: UNPROCESSABLE,
    DeskBehind: UNAVAILABLE,
    # identity
    AccountNotFound: NOT_FOUND,
    AccountBanned: FORBIDDEN,
    IdentityTaken: CONFLICT,
    LastIdentity: CONFLICT,
    UnknownRole: UNPROCESSABLE,
    InvalidName: UNPROCESSABLE,
    AccountError: BAD_REQUEST,
    InvalidToken: UNAUTHENTICATED,
    GoogleAuthError: UNAUTHENTICATED,
    TelegramAuthError: UNAUTHENTICATED,
    # feedback
    InvalidFeedback: BAD_REQUEST,
    FeedbackNotFound: NOT_FOUND,
    FeedbackIdReused: CONFLICT,
    FeedbackError: BAD_REQUEST,
    # the spine
    RateLimited: TOO_MANY,
    WriterStopped: UNAVAILABLE,
    StoreUnavailable: UNAVAILABLE,
    WriterBusy: UNAVAILABLE,
}
"""Error classes of the contexts and the spine; a subclass not listed takes its base's kind."""

CODES: dict[str, Kind] = {
    # the request itself
    "bad_request": BAD_REQUEST,
    "invalid_request": BAD_REQUEST,
    "invalid_message": BAD_REQUEST,
    "invalid_text": UNPROCESSABLE,
    "invalid_identity": BAD_REQUEST,
    "invalid_update": BAD_REQUEST,
    "hello_first": BAD_REQUEST,
    "wrong_client": BAD_REQUEST,
    "unsupported_media_type": _kind(415),
    "body_too_large": _kind(413, close=1009),
    "frame_too_large": _kind(413, close=1009),
    "method_not_allowed": _kind(405),
    # who is asking
    "unauthenticated": UNAUTHENTICATED,
    "auth_required": UNAUTHENTICATED,
    "invalid_token": UNAUTHENTICATED,
    "invalid_secret": UNAUTHENTICATED,
    "session_revoked": UNAUTHENTICATED,
    "ticket_used": UNAUTHENTICATED,
    "forbidden": FORBIDDEN,
    "account_required": FORBIDDEN,
    "origin_not_allowed": FORBIDDEN,
    "bad_session_key": FORBIDDEN,
    "rate_limited": TOO_MANY,
    # what is asked for
    "not_found": NOT_FOUND,
    "account_not_found": NOT_FOUND,
    "canvas_not_found": NOT_FOUND,
    "desk_not_found": NOT_FOUND,
    "no_current_canvas": NOT_FOUND,
    "version_not_found": NOT_FOUND,
    "pixel_out_of_bounds": BAD_REQUEST,
    "version_in_future": BAD_REQUEST,
    "gone": GONE,
    "desk_gone": GONE,
    "conflict": CONFLICT,
    "not_playing": CONFLICT,
    # the canvas's history
    "invalid_time": BAD_REQUEST,
    "time_in_future": BAD_REQUEST,
    "before_canvas": NOT_FOUND,
    "invalid_export": BAD_REQUEST,
    "invalid_timelapse": UNPROCESSABLE,
    "invalid_map": UNPROCESSABLE,
    "range_not_satisfiable": _kind(416),
    # the socket's own life (a socket that falls behind closes in the live layer: 4408 too_slow)
    "afk": Kind(409, close=4001),
    # the service
    "try_again": UNAVAILABLE,
    "unavailable": UNAVAILABLE,
    "internal": Kind(500, close=1011),
    "degraded": UNAVAILABLE,  # `GET /health`: a read model is stalled or far behind
}
"""Refusals a handler or a socket names by code (`ApiError`, `close_socket`)."""

_STATUS_CODES = {kind.status: code for code, kind in reversed(CODES.items())}


class ApiError(HTTPException):
    """A refusal a handler names by its code; its status comes from `CODES`."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(status_code=CODES[code].status, detail=detail)
        self.code = code
        self.fields = extra


@dataclass(frozen=True)
class Refusal:
    """An error as the client is told it."""

    kind: Kind
    code: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, detail: str, **extra: Any) -> Refusal:
        """A refusal named by its code."""
        return cls(CODES[code], code, detail, extra)

    def frame(self, **fields: Any) -> dict[str, Any]:
        """As a socket's JSON error frame (`fields` such as the op it answers go first)."""
        return {"type": "error", **fields, "error": self.code, "detail": self.detail, **self.extra}


def kind_of(error: BaseException) -> Kind | None:
    for cls in type(error).__mro__:
        kind = ERROR_CLASSES.get(cls)
        if kind is not None:
            return kind
    return None


def refusal(error: BaseException) -> Refusal:
    """What to tell the client about `error`: one of the map's, or an internal error (logged)."""
    if isinstance(error, ApiError):
        return Refusal(CODES[error.code], error.code, error.detail, error.fields)
    kind = kind_of(error)
    if kind is None:
        if database_away(error):
            log.warning("a request met the database away: %r", error)
            return Refusal(
                UNAVAILABLE,
                "unavailable",
                "the database is unavailable: try again shortly",
                {"wait_ms": 2000},
            )
        log.exception("unhandled error", exc_info=error)
        return Refusal(CODES["internal"], "internal", "internal error")
    return Refusal(kind, *_told(error))


def _told(error: BaseException) -> tuple[str, str, dict[str, Any]]:
    """The code, detail and extra fields of a mapped error class."""
    match error:
        case CooldownActive(wait_ms=wait_ms) | RateLimited(wait_ms=wait_ms):
            return getattr(error, "code", "rate_limited"), str(error), {"wait_ms": wait_ms}
        case SequenceGap(expected=expected):
            return error.code, str(error), {"expected_seq": expected}
        case ClockSkew(server_ms=server_ms):
            return error.code, str(error), {"server_ms": server_ms}
        case InvalidFeedback(field=name):
            return error.code, str(error), {"field": name}
        case WriterStopped():
            return "try_again", "this node is shutting down: send it again", {"wait_ms": 1000}
        case StoreUnavailable():
            return "try_again", f"{error}: send it again", {"wait_ms": 2000}
        case DeskBehind():
            return error.code, str(error), {"wait_ms": 1000}
        case RosterUnavailable():
            return error.code, str(error), {"wait_ms": 2000}
        case WriterBusy():
            detail = "another node kept writing here first: send it again"
            return "try_again", detail, {"wait_ms": 1000}
    return getattr(error, "code", "error"), str(error), {}


def decode_refusal(error: msgspec.DecodeError) -> Refusal:
    """What a socket tells a client whose frame did not decode: `invalid_text` naming the field
    when a text held a control character, `invalid_message` for anything else."""
    message = str(error)
    if isinstance(error, msgspec.ValidationError) and refuses_control_characters(message):
        field = message.rpartition(" - at `$")[2].rstrip("`").lstrip(".")
        return Refusal.of("invalid_text", _control_detail(field), field=field)
    return Refusal.of("invalid_message", message)


def _control_detail(field: str) -> str:
    return (
        f"{field or 'the text'} may not hold control characters "
        "(tab and newline only in text with lines)"
    )


def _refused_text(problems: Any) -> str | None:
    """The field of a body whose text held a control character, from Litestar's problems."""
    for problem in problems if isinstance(problems, list) else ():
        if isinstance(problem, dict) and refuses_control_characters(problem.get("message", "")):
            return str(problem.get("key", ""))
    return None


def database_away(error: BaseException) -> bool:
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


def error_body(code: str, detail: Any, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def error_response(status: int, code: str, detail: Any, **extra: Any) -> Response[Any]:
    headers = {}
    if status in (429, 503) and "wait_ms" in extra:
        headers["Retry-After"] = str(max(1, math.ceil(extra["wait_ms"] / 1000)))
    return Response(
        error_body(code, detail, **extra),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


async def close_socket(socket: WebSocket[Any, Any, Any], code: str) -> None:
    """End a socket for a refusal named by its code: the close code from the map, the code as
    the reason."""
    await socket.close(code=CODES[code].close, reason=code)


def handle_error(_: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Litestar's one exception handler: the map for ours, the framework's own statuses for its."""
    if isinstance(error, HTTPException) and not isinstance(error, ApiError):
        if isinstance(error, ValidationException):
            field = _refused_text(error.extra)
            if field is not None:
                return error_response(
                    CODES["invalid_text"].status, "invalid_text", _control_detail(field),
                    field=field,
                )
            detail: Any = error.detail
            if error.extra:
                detail = {"message": error.detail, "problems": error.extra}
            return error_response(400, "invalid_request", detail)
        code = _STATUS_CODES.get(error.status_code, "error")
        return error_response(error.status_code, code, error.detail)
    told = refusal(error)
    return error_response(told.kind.status, told.code, told.detail, **told.extra)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle_error}
