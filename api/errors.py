"""Refusals as answers: the error map (`api.error_map`: every refusal's one status and close code)
applied to HTTP, WebSocket and the relay's v1 API.

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

from api.error_map import (  # noqa: F401  (re-exported: the map's names, where handlers look)
    CODES,
    ERROR_CLASSES,
    GONE,
    NOT_FOUND,
    UNAVAILABLE,
    Kind,
)
from api.web import not_found_page
from commands.text import refuses_control_characters
from commands.writer import StoreUnavailable, WriterBusy, WriterStopped
from commands.writer_thread import unavailable
from domain.canvas import (
    CooldownActive,
    OpStale,
)
from domain.desk import (
    ClockSkew,
    SequenceGap,
)
from domain.feedback import InvalidFeedback
from domain.relay.errors import (
    TooManyAttempts,
)
from infra.canvas.presence import RosterUnavailable
from infra.desk.reads import DeskBehind
from infra.live.socket import LIVE_SOCKETS
from infra.ratelimit import RateLimited
from infra.spine.outage import StoreAway

log = logging.getLogger(__name__)


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

    def frame(self, context: str, **fields: Any) -> dict[str, Any]:
        """As a JSON error frame on a live socket of `context` (`fields` such as the op it
        answers go first), counted for `/metrics` as the HTTP refusals are."""
        LIVE_SOCKETS.refusal(context, self.code)
        return {"type": "error", **fields, "error": self.code, "detail": self.detail, **self.extra}


def kind_of(error: BaseException) -> Kind | None:
    return kind_of_class(type(error))


def kind_of_class(error_class: type[BaseException]) -> Kind | None:
    """The kind of an error class: its own in the map, or its nearest mapped base's."""
    for cls in error_class.__mro__:
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
        case TooManyAttempts(wait_ms=wait_ms):
            return error.code, str(error), {"wait_ms": wait_ms}
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
        case StoreAway():
            return "try_again", f"{error}: nothing was saved, send it again", {"wait_ms": 2000}
        case OpStale():
            return error.code, str(error), {"wait_ms": 0}
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
    ) or (
        # A transaction ended on a connection that had just broken under it.
        isinstance(error, asyncpg.InterfaceError)
        and isinstance(error.__context__, asyncpg.PostgresConnectionError)
    )


def error_body(code: str, detail: Any, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def error_response(
    status: int, code: str, detail: Any, headers: dict[str, str] | None = None, **extra: Any
) -> Response[Any]:
    headers = dict(headers or {})
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


def handle_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Litestar's one exception handler: the map for ours, the framework's own statuses for its.
    A browser that asks for a page outside `/api/` that does not exist gets the HTML 404 page."""
    response = _error_response(error)
    if response.status_code == NOT_FOUND.status and wants_page(request):
        return Response(not_found_page(), status_code=NOT_FOUND.status, media_type=MediaType.HTML)
    return response


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser navigating: a GET outside the API that accepts HTML."""
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def _error_response(error: Exception) -> Response[Any]:
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
        # the framework's own headers go along: `Allow` with a 405
        return error_response(error.status_code, code, error.detail, dict(error.headers or {}))
    told = refusal(error)
    return error_response(told.kind.status, told.code, told.detail, **told.extra)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle_error}


def relay_v1_error(_: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The relay v1 API's own error body, as its clients read it: `{"message", "code"}` with the
    HTTP status in `code` (the status itself still comes from this map)."""
    if isinstance(error, HTTPException) and not isinstance(error, ApiError):
        status, message, extra = error.status_code, str(error.detail), {}
    else:
        told = refusal(error)
        status, message, extra = told.kind.status, told.detail, told.extra
    headers = {}
    if status in (429, 503) and "wait_ms" in extra:
        headers["Retry-After"] = str(max(1, math.ceil(extra["wait_ms"] / 1000)))
    body = {"message": message, "code": status}
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


RELAY_V1_EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: relay_v1_error}
