"""A cheap WebSocket client for load generators: an asyncio protocol with hand-made RFC 6455
framing (as scripts/load_canvas.py's), text frames out under a zero mask, text and binary frames
in, pings answered, the close code kept. A frame costs it a few microseconds where the
`websockets` library costs tens: the load shares the machine with the servers it loads."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

ZERO_MASK = b"\x00\x00\x00\x00"  # a valid masking key: the payload goes out as it is
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade_request(host: str, port: int, path: str, headers: dict[str, str] | None = None
                    ) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


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
        while size - at >= 2:
            length = buf[at + 1] & 0x7F
            head = 2
            if length == 126:
                if size - at < 4:
                    break
                length = (buf[at + 2] << 8) | buf[at + 3]
                head = 4
            elif length == 127:
                if size - at < 10:
                    break
                length = int.from_bytes(buf[at + 2 : at + 10], "big")
                head = 10
            start = at + head
            end = start + length
            if end > size:
                break
            opcode = buf[at] & 0x0F
            if opcode == 1:
                self.on_text(bytes(buf[start:end]))
            elif opcode == 2:
                self.on_binary(bytes(buf[start:end]))
            elif opcode == 8:
                self.close_code = int.from_bytes(buf[start : start + 2], "big") if length else 1005
                self.transport.close()
                break
            elif opcode == 9:  # ping: a pong with its payload
                payload = bytes(buf[start:end])
                if not self.transport.is_closing():
                    self.transport.write(bytes((0x8A, 0x80 | len(payload))) + ZERO_MASK + payload)
            at = end
        if at:
            del buf[:at]

    def send_text(self, payload: bytes) -> None:
        """Sends a text frame; nothing once the socket is closing (what it held goes again
        when the caller's socket is back)."""
        if self.transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = bytes((0x81, 0x80 | n))
        else:
            head = bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
        self.transport.write(head + ZERO_MASK + payload)

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
