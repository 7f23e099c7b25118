"""RFC 6455 framing for the cheap WebSocket clients of the load generators
(`tests/support/live_socket.py`, `scripts/load_canvas.py`, `scripts/bench_relay.py`): a frame
costs them a few microseconds where the `websockets` library costs tens, and the load shares the
machine with the servers it loads. Frames from a server are never masked nor, from Tessera,
fragmented; a client's frames go out under a zero mask (valid: the payload travels as it is)."""

from __future__ import annotations

TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10
ZERO_MASK = b"\x00\x00\x00\x00"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
"""The handshake's Sec-WebSocket-Key (any 16 bytes in base64 will do for a load generator)."""


def upgrade_request(host: str, port: int, path: str, headers: dict[str, str] | None = None
                    ) -> bytes:
    """The client's opening handshake for `path` on `host:port`, with `headers` besides."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def next_frame(buf: bytearray, at: int, size: int) -> tuple[int, int, int] | None:
    """The frame starting at `buf[at]` as `(opcode, payload start, payload end)`, or None
    while its bytes have not all arrived (`size` is how many have)."""
    if size - at < 2:
        return None
    length = buf[at + 1] & 0x7F
    head = 2
    if length == 126:
        if size - at < 4:
            return None
        length = (buf[at + 2] << 8) | buf[at + 3]
        head = 4
    elif length == 127:
        if size - at < 10:
            return None
        length = int.from_bytes(buf[at + 2 : at + 10], "big")
        head = 10
    start = at + head
    end = start + length
    if end > size:
        return None
    return buf[at] & 0x0F, start, end


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One whole frame from a client: FIN, `opcode`, the length, the zero mask, `payload`."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
    return head + ZERO_MASK + payload


def close_code(buf: bytearray, start: int, end: int) -> int:
    """A close frame's code; 1005 (none given) for an empty one."""
    return int.from_bytes(buf[start : start + 2], "big") if end > start else 1005
