"""A cheap WebSocket client for load generators: an asyncio protocol on the hand-made RFC 6455
framing of `tests/support/ws_frames.py`, text frames out, text and binary frames in, pings
answered, the close code kept."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from tests.support.ws_frames import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    client_frame,
    close_code,
    next_frame,
    upgrade_request,
)

__all__ = ["LiveSocket", "open_socket", "upgrade_request"]


class LiveSocket(asyncio.Protocol):
    """One socket: `opened` resolves after the 101, `closed` when the connection is gone (with
    `close_code`: the server's close frame's, or None when the connection was cut)."""

    def __init__(self, request: bytes, on_text: Callable[[bytes], None],
                 on_binary: Callable[[bytes], None]) -> None:
        loop = asyncio.get_running_loop()
        self.request = request
        self.on_text = on_text
        self.on_binary = on_binary
        self.transport: Any = None
        self.buf = bytearray()
        self.handshaken = False
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None

    @property
    def is_open(self) -> bool:
        return self.handshaken and not self.closed.done()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                self.transport.close()
                return
            self.handshaken = True
            self.opened.set_result(None)
        self._frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def eof_received(self) -> bool:
        return False

    def _frames(self) -> None:
        buf = self.buf
        size = len(buf)
        at = 0
        while (frame := next_frame(buf, at, size)) is not None:
            opcode, start, at = frame
            if opcode == TEXT:
                self.on_text(bytes(buf[start:at]))
            elif opcode == BINARY:
                self.on_binary(bytes(buf[start:at]))
            elif opcode == CLOSE:
                self.close_code = close_code(buf, start, at)
                self.transport.close()
                break
            elif opcode == PING and not self.transport.is_closing():  # a pong with its payload
                self.transport.write(client_frame(PONG, bytes(buf[start:at])))
        if at:
            del buf[:at]

    def send_text(self, payload: bytes) -> None:
        """Sends a text frame; nothing once the socket is closing (what it held goes again
        when the caller's socket is back)."""
        if not self.transport.is_closing():
            self.transport.write(client_frame(TEXT, payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_socket(host: str, port: int, request: bytes, on_text: Callable[[bytes], None],
                      on_binary: Callable[[bytes], None], timeout: float = 10.0) -> LiveSocket:
    """A socket past its 101; raises OSError / ConnectionError / TimeoutError when it could not
    be opened (the caller tries again later)."""
    loop = asyncio.get_running_loop()
    live = LiveSocket(request, on_text, on_binary)
    try:
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: live, host, port)
            await live.opened
    except BaseException:
        live.close()
        raise
    return live
