"""The live sockets' protocol (`infra.live.socket`) on a real uvicorn server on loopback, spoken to
over a raw TCP connection: a client can send what no WebSocket library would."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.frames import Frame, Opcode

from infra.live import socket
from infra.live.socket import UVICORN_OPTIONS, Occasional, frame_sink
from tests.support.ports import free_port

HANDSHAKE = (
    b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def reading_until_gone(scope: Any, receive: Any, send: Any) -> None:
    """A socket that accepts, then reads until the client goes."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def taking_on_the_spot(scope: Any, receive: Any, send: Any) -> None:
    """A socket whose messages go to a handler in the protocol (as a joined desk's do), which
    declines what it cannot decode."""
    await receive()
    await send({"type": "websocket.accept"})
    sink = frame_sink(scope)
    assert sink is not None
    sink.deliver_to(lambda message: message.isascii())
    while (await receive())["type"] != "websocket.disconnect":
        pass


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, port=port, lifespan="off", log_config=None, **UVICORN_OPTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def close_code_after(port: int, payload: bytes) -> int:
    """Opens a socket, sends `payload` as one text frame and reads the server's close code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(HANDSHAKE)
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        writer.write(Frame(Opcode.TEXT, payload).serialize(mask=True))
        head = await reader.readexactly(2)
        assert head[0] == 0x88, f"not a close frame: {head!r}"
        code: int = struct.unpack("!H", (await reader.readexactly(head[1] & 0x7F))[:2])[0]
        return code
    finally:
        writer.close()


@pytest.mark.parametrize("app", [reading_until_gone, taking_on_the_spot])
async def test_text_frames_that_are_not_utf8_are_closed_with_1007_and_logged_once(
    app, caplog, monkeypatch
):
    monkeypatch.setattr(socket, "INVALID_TEXT", Occasional("not UTF-8", interval_s=60.0))
    caplog.set_level(logging.DEBUG)
    async with serving(app) as port:
        codes = [await close_code_after(port, b'{"type": "\xff\xfe"}') for _ in range(5)]
    assert codes == [1007] * 5
    told = [r for r in caplog.records if "utf-8" in r.getMessage().lower()]
    assert [(r.levelno, r.exc_info) for r in told] == [(logging.WARNING, None)]
    # (the socket's and the server's own records: another test's node may still be logging)
    assert not [
        r for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("infra.live", "uvicorn"))
    ]


def test_a_repeated_warning_is_logged_once_an_interval_with_the_count_held_back(caplog):
    now = [0.0]
    warning = Occasional("something odd", interval_s=60.0, clock=lambda: now[0])
    for at in (0.0, 1.0, 2.0, 59.0, 60.0, 61.0):
        now[0] = at
        warning.log()
    assert [r.getMessage() for r in caplog.records] == [
        "something odd (0 more since the last such line)",
        "something odd (3 more since the last such line)",
    ]
