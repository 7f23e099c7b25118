"""One line per log record: the plain form for people, or JSON for machines
(`TESSERA_LOG_FORMAT=json`) with the request's id, context and route when a request is being
answered. The access log (`TESSERA_ACCESS_LOG=1`) writes one line per answered request."""

from __future__ import annotations

import contextvars
import logging
import time

import msgspec

PLAIN = "%(asctime)s %(levelname)s %(name)s %(message)s"

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
route: contextvars.ContextVar[str | None] = contextvars.ContextVar("route", default=None)
access = logging.getLogger("tessera.access")
access_on = False
"""Whether the access log writes: a switch of its own, not `access.disabled`, which any
`logging.config.dictConfig` (uvicorn's, Litestar's) resets on every logger it does not name."""


class JsonFormatter(logging.Formatter):
    _encode = msgspec.json.Encoder().encode

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid, path = request_id.get(), route.get()
        if rid is not None:
            line["request_id"] = rid
        if path is not None:
            line["route"] = path
            line["context"] = context_of(path)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self._encode(line).decode()


def context_of(path: str) -> str:
    """The context a route belongs to: its first segment under /api/ (`/api/canvas/…` →
    `canvas`), else `web`."""
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "api" and parts[2] else "web"


def configure(log_format: str, *, access_log: bool = False) -> None:
    """The root logger's one handler, in `plain` or `json`; the access log on or off."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    global access_on
    access_on = access_log
