"""The WebSocket handler, `/v1/websocket`: binary frames only, each a protobuf `Payload` (see
`infra/relay/proto/relay_v1.proto`). A text frame, garbage, an unknown flag or anything the room
refuses is answered with a `RESPONSE_ERROR` frame (`Error {Code, message}`, the HTTP status of
the refusal in the error map) and changes nothing; the socket stays open. A frame over
`TESSERA_RELAY_MAX_FRAME_BYTES` gets an error (413) and the socket is closed (1009)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from api.errors import Refusal, close_socket, refusal
from api.relay.cors import origin_allowed
from api.relay.parts import provide_relay
from domain.relay.errors import RelayError
from infra.live.socket import LIVE_SOCKETS, frame_sink
from infra.relay import frames
from infra.relay.connection import Connection
from infra.relay.session import Session

log = logging.getLogger(__name__)


def _error_frame(told: Refusal) -> bytes:
    """A refusal as v1 clients are told it (counted for `/metrics`)."""
    LIVE_SOCKETS.refusal("relay", told.code)
    return frames.error(told.kind.status, told.detail)


def error_frame(error: Exception) -> bytes:
    """A refusal as v1 clients are told it: `RESPONSE_ERROR` with the status of the error map."""
    return _error_frame(refusal(error))


NOT_BINARY = Refusal.of("invalid_message", "invalid message provided, must be in binary format")
INTERNAL = Refusal.of("internal", "internal error")


async def _settle(pending: Awaitable[None], session: Session) -> None:
    try:
        await pending
    except RelayError as error:
        session.send(error_frame(error))


@websocket("/v1/websocket")
async def relay_socket(socket: WebSocket[Any, Any, Any]) -> None:
    relay = provide_relay(socket.app.state)
    settings = relay.settings
    if not origin_allowed(settings.cors_origins, socket.headers.get("origin")):
        await close_socket(socket, "origin_not_allowed")
        return
    sink = frame_sink(socket.scope)
    await socket.accept()
    if sink is None:
        log.error("relay sockets need uvicorn with infra.live.socket's protocol")
        await close_socket(socket, "internal")
        return
    loop = asyncio.get_running_loop()

    def close(code: int, reason: str) -> None:
        async def closing() -> None:
            with contextlib.suppress(Exception):
                await socket.close(code=code, reason=reason)

        loop.create_task(closing())

    address = socket.client.host if socket.client else "unknown"
    session = Session(sink, close, address=address, limit_bytes=settings.send_queue_bytes)
    connection = Connection(session, relay.cluster)
    max_frame = settings.max_frame_bytes

    def take(raw: bytes) -> bool:
        """A binary message straight from the protocol, once the client is in a room: dealt
        with on the spot, without a trip through ASGI (False: `receive` gets it instead)."""
        if len(raw) > max_frame or session.closed:
            return False
        try:
            pending = connection.on_frame(raw)
        except RelayError as error:
            session.send(error_frame(error))
            return True
        except Exception:  # a bug must cost this frame, never the socket
            log.exception("a relay frame failed")
            session.send(_error_frame(INTERNAL))
            return True
        if pending is not None:  # never once in a room (a second connect is refused at once)
            loop.create_task(_settle(pending, session))
        return True

    try:
        with contextlib.suppress(WebSocketDisconnect):
            while not session.closed:
                event = await socket.receive()
                if event["type"] == "websocket.disconnect":
                    return
                raw = event.get("bytes")
                if not isinstance(raw, bytes):
                    session.send(_error_frame(NOT_BINARY))
                    continue
                if len(raw) > max_frame:
                    detail = f"a frame may hold at most {max_frame} bytes"
                    session.send(_error_frame(Refusal.of("frame_too_large", detail)))
                    await close_socket(socket, "frame_too_large")
                    return
                try:
                    pending = connection.on_frame(raw)
                    if pending is not None:  # its room is looked up: the next frame waits
                        await pending
                except RelayError as error:
                    session.send(error_frame(error))
                except Exception:  # a bug must cost this frame, never the socket
                    log.exception("a relay frame failed")
                    session.send(_error_frame(INTERNAL))
                joined = connection.room is not None or connection.owner is not None
                if joined and sink.queue.empty():  # nothing waits in `receive`: none overtaken
                    sink.deliver_to(take, binary=True)
    finally:
        connection.closed()
        session.closed = True
