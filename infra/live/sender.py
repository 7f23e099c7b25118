"""The sending half every live socket shares: its own JSON text messages, the frames the fan-out
queued for it, and the goodbye to a client that fell behind.

Under `infra.live.socket`'s protocol (a `Sink`) everything goes out as whole frames written to
the transport, without an await while its buffer has room; under any other server, through the
socket's ASGI sends. Either way what is sent goes out in the order it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Literal, Protocol

from infra.live.fanout import Frame, Listener, Sink
from infra.live.socket import text_frame

GOODBYE_TIMEOUT_S = 1.0
RESYNC = b'{"type":"resync"}'

Mode = Literal["text", "binary"]


class Socket(Protocol):
    """The socket's ASGI side (Litestar's `WebSocket`)."""

    async def send_data(self, data: str | bytes, mode: Mode = "text") -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Sender:
    def __init__(self, socket: Socket, sink: Sink | None, mode: Mode) -> None:
        """`sink`: the socket's own (`infra.live.socket.frame_sink`), if its server gave one;
        `mode`: how the fan-out's messages go through the socket's ASGI sends, without one."""
        self.socket = socket
        self.sink = sink
        self._mode = mode
        self._lock = asyncio.Lock()
        """Held by whoever waits to send, so that nothing sent after overtakes it."""

    async def send(self, message: bytes) -> None:
        """A JSON text message."""
        sink = self.sink
        if sink is not None and not self._lock.locked() and sink.frames_ready():
            sink.write_frames(text_frame(message))  # no await: nothing to wait for
            return
        await self.send_many((message,))

    async def send_many(self, messages: Sequence[bytes]) -> None:
        """JSON text messages, in order; in one write when there is a sink."""
        sink = self.sink
        if sink is None:
            async with self._lock:
                for message in messages:
                    await self.socket.send_data(message, "text")
            return
        if self._lock.locked() or not sink.frames_ready():
            async with self._lock:  # whoever waits for the buffer to drain writes first
                await sink.frames_drained()
        _write_texts(sink, messages)

    def send_now(self, messages: Sequence[bytes]) -> None:
        """JSON text messages written at once, from a callback (answers: what the client sent
        bounds them, so they do not wait for the buffer to drain); sent by a task without a
        sink."""
        sink = self.sink
        if sink is None:
            asyncio.get_running_loop().create_task(self.send_many(messages))
        else:
            _write_texts(sink, messages)

    async def next_frames(
        self, listener: Listener, ready: asyncio.Event | None = None
    ) -> list[Frame] | None:
        """What `listener` queued (frames the fan-out could not write straight to the sink),
        oldest first, once the socket can take them and `ready` is set; None once the client
        fell behind: it was told to resync, and the socket closes (4408)."""
        sink = self.sink
        while True:
            await listener.wait()
            if listener.dropped:
                await self._goodbye()
                return None
            if ready is not None:
                await ready.wait()
            if sink is not None:
                await sink.frames_drained()
                if ready is not None and not ready.is_set():
                    continue  # held again meanwhile: what holds it goes first
            return listener.take()

    async def send_frames(self, frames: list[Frame]) -> bool:
        """Frames from the fan-out, in order; False once the socket is closing."""
        if not frames:
            return True
        sink = self.sink
        if sink is None:
            async with self._lock:
                for message, _ in frames:
                    await self.socket.send_data(message, self._mode)
            return True
        if not sink.frames_open():
            return False
        sink.write_frames(b"".join(wire for _, wire in frames))
        return True

    async def _goodbye(self) -> None:
        # Its buffers are likely full: try to say why, but never wait on it for long.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(GOODBYE_TIMEOUT_S):
                await self.send(RESYNC)
                await self.socket.close(code=4408, reason="too_slow")


def _write_texts(sink: Sink, messages: Sequence[bytes]) -> None:
    """JSON text frames in one write, unless the socket closed meanwhile."""
    if sink.frames_open():
        sink.write_frames(b"".join(text_frame(message) for message in messages))
