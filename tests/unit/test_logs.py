"""One line per record: JSON for machines, with the request it belongs to."""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from typing import Any

import pytest

from api.ops import http_metrics
from infra import logs
from infra.logs import JsonFormatter, context_of
from infra.metrics import NodeMetrics


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("tessera.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_json_line_names_the_request_its_context_and_route():
    rid, route = logs.request_id.set("abc123"), logs.route.set("/api/desk/{desk_id}/ops")
    try:
        line = JsonFormatter().format(record("desk %s is full", "d1"))
    finally:
        logs.request_id.reset(rid)
        logs.route.reset(route)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed.pop("time").endswith("Z")
    assert parsed == {
        "level": "WARNING",
        "logger": "tessera.test",
        "message": "desk d1 is full",
        "request_id": "abc123",
        "route": "/api/desk/{desk_id}/ops",
        "context": "desk",
    }


def test_outside_a_request_a_line_has_no_request_fields_and_keeps_its_traceback_on_one_line():
    parsed = json.loads(JsonFormatter().format(record("failed", exc=True)))
    assert "request_id" not in parsed and "route" not in parsed
    assert "ValueError: boom" in parsed["exception"]


def test_the_context_of_a_route_is_its_first_segment_under_api():
    assert context_of("/api/canvas/{canvas_id}/pixels") == "canvas"
    assert context_of("/desk/{desk_id}") == "web"
    assert context_of("/api/") == "web"


async def _answer(scope: object, receive: object, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _one_request(app: Any) -> None:
    scope = {"type": "http", "method": "GET", "path_template": "/api/x", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: object) -> None:
        pass

    await app(scope, receive, send)


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("on", [False, True])
async def test_the_access_log_stays_as_configured_after_a_server_reconfigures_logging(on):
    # uvicorn and Litestar each apply a dictConfig that re-enables every logger it does not name.
    previous, kept = logs.access_on, _Kept()
    logs.configure("plain", access_log=on)
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    logs.access.addHandler(kept)
    try:
        await _one_request(http_metrics(NodeMetrics())(_answer))
    finally:
        logs.access.removeHandler(kept)
        logs.configure("plain", access_log=previous)
    assert [line.rsplit(" ", 2)[0] for line in kept.lines] == (["GET /api/x 204"] if on else [])
