"""The server side of live sockets: uvicorn's sans-I/O WebSocket protocol, plus a way to write
whole, already encoded frames to a socket without a coroutine, a task switch or a copy per frame.

A live delta goes to thousands of sockets: it is framed once (`binary_frame`) and the same bytes
are written to every transport. Through ASGI, each of those writes would cost an `await` through
Litestar's and uvicorn's send layers and a frame serialisation. The protocol puts itself in the
connection scope (`FRAMES_EXTENSION`) for the application to find (`frame_sink`); under any other
server the application falls back to plain ASGI sends.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from infra.settings import Settings

try:
    from websockets.speedups import apply_mask
except ImportError:  # a platform without the C build
    from websockets.utils import apply_mask

FRAMES_EXTENSION = "tessera.frames"

log = logging.getLogger(__name__)

_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def _frame(opcode: int, payload: bytes) -> bytes:
    """An unfragmented, unmasked server frame (RFC 6455 §5.2).

    Hand-written rather than `websockets.frames.Frame(...).serialize(mask=False)`, which writes
    the same bytes (tests/unit/test_socket_frames.py checks it) in 942 ns a 100-byte frame
    against 160 ns here: an op on a desk writes three frames, so about 4 % of its event-loop time
    (timeit on the development machine, 2026-12-02)."""
    size = len(payload)
    if size < 126:
        return _SHORT.pack(0x80 | opcode, size) + payload
    if size < 65536:
        return _MEDIUM.pack(0x80 | opcode, 126, size) + payload
    return _LONG.pack(0x80 | opcode, 127, size) + payload


def binary_frame(payload: bytes) -> bytes:
    return _frame(0x2, payload)


def text_frame(payload: bytes) -> bytes:
    """`payload` must be UTF-8 (JSON from msgspec is)."""
    return _frame(0x1, payload)


class _Flag:
    """`asyncio.Event` as uvicorn uses it, without the event's eager deque (~0.8 kB a socket)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter
        return True


class _Inbox:
    """`asyncio.Queue` as uvicorn uses it (one reader, unbounded), without its three deques
    (~2.5 kB a socket). uvicorn pauses reading while a message waits, so it stays short."""

    __slots__ = ("_getter", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class Occasional:
    """A warning logged at most once per interval, whoever causes it: what a client can repeat
    at will must not fill the log. The next line counts the ones held back."""

    def __init__(
        self, message: str, *, interval_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._message = message
        self._interval_s = interval_s
        self._clock = clock
        self._next = -math.inf
        self._held = 0

    def log(self) -> None:
        now = self._clock()
        if now < self._next:
            self._held += 1
            return
        self._next = now + self._interval_s
        held, self._held = self._held, 0
        log.warning("%s (%d more since the last such line)", self._message, held)


INVALID_TEXT = Occasional(
    "a client sent a text frame that is not UTF-8: closed with 1007 (logged once a minute at most)",
    interval_s=60.0,
)


MessageHandler = Callable[[bytes], bool]
"""Takes a received text message on the spot; False hands it to the application's `receive`
instead (and with it every message after it, until the handler is given again). The message is
not checked for UTF-8 on the way: msgspec's JSON decoding refuses what is not (then False)."""


class LiveSockets:
    """Live sockets open, and opened, per context in this process (`/metrics`)."""

    def __init__(self) -> None:
        self.open: Counter[str] = Counter()
        self.opened: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        """Messages the clients sent (`/metrics`: messages in)."""
        self.refused: Counter[tuple[str, str]] = Counter()
        """(context, error code) → messages answered with an error frame (`/metrics`:
        `tessera_refusals_total`, beside the HTTP requests refused)."""

    def refusal(self, context: str, code: str) -> None:
        """A client's message refused with an error frame of `code`."""
        self.refused[context, code] += 1


LIVE_SOCKETS = LiveSockets()


def socket_context(path: str) -> str:
    """A socket's context, from its path: `/api/<context>/…`, the relay's `/v1/websocket`."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "api" and parts[2]:
        return parts[2]
    return "relay" if path.startswith("/v1/") else "web"


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol that can also take encoded frames synchronously,
    hand received text messages straight to a handler, and holds less per idle socket: lighter
    queue and flag, and no handshake headers kept beyond the scope's own copy.

    Frames written here are whole messages; they are never compressed (RFC 7692 lets a sender
    leave any message uncompressed), so they are valid whatever extensions were negotiated.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]
        self.writable.set()
        self._handler: MessageHandler | None = None
        self._counted_as: str | None = None
        self._first_byte = 0x81
        """The first byte of the frames the handler takes: FIN and TEXT, or FIN and BINARY."""

    def deliver_to(self, handler: MessageHandler | None, *, binary: bool = False) -> None:
        """From now on, text messages go to `handler` as they are parsed (None: to `receive`).

        Through ASGI, each message costs a queued event, a task switch, uvicorn's pause and
        resume of reading (two system calls) and Litestar's receive layers; a handler takes it
        in the protocol's own callback. Call it only while `receive` has nothing queued, so
        that no message overtakes an earlier one. `binary`: the handler takes binary messages
        instead (the relay's protobuf frames); text ones then go to `receive`."""
        self._handler = handler
        self._first_byte = 0x82 if binary else 0x81

    def data_received(self, data: bytes) -> None:
        """With a handler, whole text frames are unmasked and handed over here; the websockets
        parser (a generator a frame, in Python: most of a socket's receiving) gets what is left
        from the first frame of any other kind on: control frames, fragments, a frame cut in
        two by the read, or one the handler declined."""
        conn = self.conn
        if (
            self._handler is None
            or conn.state is not State.OPEN
            or conn.reader.buffer
            or conn.current_size is not None
        ):
            super().data_received(data)
            return
        taken, messages = self._take_frames(data)
        if messages and self._counted_as is not None:
            LIVE_SOCKETS.received[self._counted_as] += messages
        if taken < len(data):
            super().data_received(data[taken:])

    def _take_frames(self, data: bytes) -> tuple[int, int]:
        """How many bytes of whole, masked, final text frames (RFC 6455 §5.2) went to the
        handler from the start of `data`, and how many frames."""
        position, end, messages = 0, len(data), 0
        while self._handler is not None and end - position >= 6:
            if data[position] != self._first_byte:  # FIN and TEXT (or BINARY), no extensions
                break
            length = data[position + 1]
            if not length & 0x80:  # a client's frames are masked, or refused by the parser
                break
            length &= 0x7F
            head = position + 2
            if length == 126:
                length = int.from_bytes(data[head : head + 2], "big")
                head += 2
            elif length == 127:
                break
            start = head + 4
            if start + length > end:
                break
            payload = apply_mask(data[start : start + length], data[head:start])
            if not self._handler(payload):
                self._handler = None  # the parser frames it again, for `receive`
                break
            position = start + length
            messages += 1
        return position, messages

    def send_receive_event_to_app(self) -> None:
        if self.close_sent:
            super().send_receive_event_to_app()
            return
        if self._counted_as is not None:
            LIVE_SOCKETS.received[self._counted_as] += 1
        text = self.curr_msg_data_type == "text"
        frames = self.frames
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        handler = self._handler
        if handler is not None and text == (self._first_byte == 0x81):
            if handler(data):
                self.frames = []
                return
            self._handler = None
        if text:
            try:
                data.decode()
            except UnicodeDecodeError:
                # uvicorn closes with 1007 too, but logs an error with its traceback every time.
                self.frames = []
                INVALID_TEXT.log()
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()  # the frames are still there for it

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:
            self.scope["extensions"][FRAMES_EXTENSION] = self  # type: ignore[assignment]
            context = self._counted_as = socket_context(self.scope["path"])
            LIVE_SOCKETS.open[context] += 1
            LIVE_SOCKETS.opened[context] += 1
        # The scope has its own copy; the parser's generator would keep these alive for good.
        event.headers.clear()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            self.response = None  # type: ignore[assignment]  # sent; only the handshake reads it

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted_as is not None:
            LIVE_SOCKETS.open[self._counted_as] -= 1
            self._counted_as = None
        super().connection_lost(exc)

    def frames_ready(self) -> bool:
        """Open, accepted, not closing, and the transport's buffer below its high-water mark."""
        return (
            self.handshake_complete
            and not self.close_sent
            and not self.disconnected
            and self.writable.is_set()
            and not self.transport.is_closing()
        )

    def frames_open(self) -> bool:
        """Still worth writing to, maybe after waiting for the buffer to drain."""
        return not self.close_sent and not self.disconnected and not self.transport.is_closing()

    def write_frames(self, frames: bytes) -> None:
        """Whole frames, encoded; the caller checked `frames_ready()` (or `frames_open()`)."""
        self.transport.write(frames)

    async def frames_drained(self) -> None:
        """Returns once the transport takes more (or the socket is gone)."""
        await self.writable.wait()


def frame_sink(scope: Mapping[str, Any]) -> LiveWebSocketProtocol | None:
    extensions = scope.get("extensions") or {}
    sink = extensions.get(FRAMES_EXTENSION)
    return sink if isinstance(sink, LiveWebSocketProtocol) else None


UVICORN_OPTIONS: dict[str, Any] = {
    "ws": LiveWebSocketProtocol,
    # Deltas are packed integers: compression buys little, costs a compressor per socket (tens
    # of kB) and a compression per socket per frame (the frames are written pre-encoded anyway).
    "ws_per_message_deflate": False,
    # Clients send small JSON messages (the handlers refuse more than 4 or 64 kB, with their own
    # reasons): no buffering 16 MB for anyone.
    "ws_max_size": 1024 * 1024,
    "backlog": 4096,
    # `TESSERA_ACCESS_LOG` is the access log; uvicorn's own, filtered out by its level, still
    # built each line's client address and quoted path before asking its logger.
    "access_log": False,
}
"""The uvicorn options of every server that serves live sockets (`tessera serve`, tests)."""


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """`UVICORN_OPTIONS`, how long a graceful shutdown waits for requests in flight, and whose
    forwarded headers to believe: only the configured proxies'.
    uvicorn's own default believes any client on loopback, which could then name its own
    address, and so take a fresh per-IP rate-limit bucket with every request."""
    proxies = settings.split(settings.trusted_proxies)
    return UVICORN_OPTIONS | {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
        "timeout_graceful_shutdown": settings.shutdown_timeout_s,
    }
