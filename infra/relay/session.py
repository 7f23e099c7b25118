"""A session: one client connection as the relay sees it, whatever carries it. The room writes
encoded frames to it (`send`) and may end it (`end`); the session tracks which client of which
room it is.

Frames go straight to the socket's transport while its buffer has room. When it has none (the
client reads slower than the room sends) they wait in a bounded queue, written as one when the
buffer drains; a client whose queue outgrows `limit_bytes` is told why and disconnected, so it
never holds the room up nor makes the node buffer without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from infra.relay import frames

log = logging.getLogger(__name__)

TOO_SLOW = 1008
"""The close code of a client that fell too far behind (policy violation)."""


class Sink(Protocol):
    """Where a session's frames go (`infra.live.socket.LiveWebSocketProtocol`)."""

    def frames_ready(self) -> bool: ...

    def frames_open(self) -> bool: ...

    def write_frames(self, frames: bytes) -> None: ...

    async def frames_drained(self) -> None: ...


Closer = Callable[[int, str], None]
"""Ends the connection with a close code and a reason (scheduled, never awaited)."""


class Session:
    __slots__ = (
        "_drainer",
        "_pending",
        "_pending_bytes",
        "address",
        "client_id",
        "close",
        "closed",
        "connected_at",
        "limit_bytes",
        "room",
        "secret",
        "sink",
    )

    def __init__(self, sink: Sink, close: Closer, *, address: str, limit_bytes: int) -> None:
        self.sink = sink
        self.close = close
        self.address = address
        self.limit_bytes = limit_bytes
        self.client_id = -1
        self.secret = 0
        self.room: object | None = None
        """The live room it joined (`infra.relay.room.Room`), if any."""
        self.connected_at = time.monotonic()
        self.closed = False
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._drainer: asyncio.Task[None] | None = None

    def send(self, wire: bytes) -> None:
        """One encoded frame (or several, joined), in order after everything sent before."""
        if self.closed:
            return
        if not self._pending and self.sink.frames_ready():
            self.sink.write_frames(wire)
            return
        if not self.sink.frames_open():
            return
        self._pending_bytes += len(wire)
        if self._pending_bytes > self.limit_bytes:
            self.end_too_slow()
            return
        self._pending.append(wire)
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending and not self.closed:
                await self.sink.frames_drained()
                if self.closed or not self.sink.frames_open():
                    break
                pending, self._pending, self._pending_bytes = self._pending, [], 0
                self.sink.write_frames(b"".join(pending))
        finally:
            self._drainer = None

    def end_too_slow(self) -> None:
        self._pending, self._pending_bytes = [], 0
        with contextlib.suppress(Exception):  # its buffer is full anyway: one more frame
            self.sink.write_frames(frames.error(503, "too slow: fell behind the room"))
        self.end(TOO_SLOW, "too_slow")

    def end(self, code: int = 1000, reason: str = "") -> None:
        """Disconnect the client (its room learns of it from the socket's end, as for any)."""
        if self.closed:
            return
        self.closed = True
        if self._drainer is not None:
            self._drainer.cancel()
        self.close(code, reason)

    @property
    def queued_bytes(self) -> int:
        return self._pending_bytes
