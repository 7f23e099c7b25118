"""The receiving half every live socket shares: read frames until the client goes, refuse any too
large to be a real message."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from api.auth import payload_of
from api.errors import close_socket

Handler = Callable[[str | bytes], Awaitable[bool | None]]
"""Answers one received message; False ends the socket's reading (None goes on, like True)."""


async def receive_frames(socket: WebSocket[Any, Any, Any], max_frame: int, handle: Handler) -> None:
    """Hand each received payload to `handle` until the client disconnects or `handle` answers
    False. A payload over `max_frame` bytes closes the socket with 1009 ("message too big") before
    anything decodes it."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            event = await socket.receive()
            if event["type"] == "websocket.disconnect":
                return
            raw = payload_of(event)
            if len(raw) > max_frame:
                await close_socket(socket, "frame_too_large")
                return
            if await handle(raw) is False:
                return
