"""The canvas's live socket: binary delta frames out, JSON control messages both ways.

Server → client: binary frames, each a delta exactly as on NATS (16-byte `from, to` header, then
u32 entries); JSON `{"type": "ack", "op", "version"}`, `{"type": "error", "op"?, "error",
"detail", …}`, `{"type": "resync"}` (you fell behind: reload the snapshot; the socket closes).
Client → server: `{"type": "auth", "token"}` (first, optional: spectators skip it),
`{"type": "place", "x", "y", "colour", "op"?}`, `{"type": "ping"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from api.auth import Gate, origin_allowed, payload_of
from api.errors import ApiError
from api.ratelimit import RateLimited
from commands.actor import Actor
from commands.wire import ColourIndex, Coordinate, OpId, PlacePixel
from domain.canvas import CanvasError, CooldownActive
from infra.fanout import RESYNC, Fanout

MAX_FRAME = 4096
GOODBYE_TIMEOUT_S = 1.0


class Auth(msgspec.Struct, tag="auth", forbid_unknown_fields=True):
    token: str


class Place(msgspec.Struct, tag="place", forbid_unknown_fields=True):
    x: Coordinate
    y: Coordinate
    colour: ColourIndex
    op: OpId | None = None


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    pass


Inbound = Auth | Place | Ping
_decode = msgspec.json.Decoder(Inbound).decode
_encode = msgspec.json.Encoder().encode


@websocket("/api/canvas/{canvas_id:uuid}/live")
async def canvas_live(socket: WebSocket[Any, Any, Any], canvas_id: FromPath[UUID]) -> None:
    if not origin_allowed(socket):
        await socket.close(code=4403, reason="origin_not_allowed")
        return
    parts = socket.app.state.parts
    await socket.accept()
    if await parts.reads.view.get_canvas(canvas_id) is None:
        await socket.close(code=4404, reason="canvas_not_found")
        return
    fanout: Fanout = parts.fanout
    listener = await fanout.listen(str(canvas_id))
    session = _Session(socket, socket.app.state.gate, parts.canvases, canvas_id)
    # Two halves: frames out, messages in. Whichever ends (a drop, a disconnect) ends both.
    tasks = [
        asyncio.create_task(session.forward(listener.queue)),
        asyncio.create_task(session.serve()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await fanout.leave(str(canvas_id), listener)


class _Session:
    def __init__(
        self, socket: WebSocket[Any, Any, Any], gate: Gate, canvases: Any, canvas_id: UUID
    ) -> None:
        self.socket = socket
        self.gate = gate
        self.canvases = canvases
        self.canvas_id = canvas_id
        self.actor: Actor | None = None
        self._send_lock = asyncio.Lock()

    async def forward(self, queue: asyncio.Queue[Any]) -> None:
        """Live frames to the client, in order; a resync notice ends the connection."""
        while True:
            frame = await queue.get()
            if frame is RESYNC:
                # Its buffers are likely full: try to say why, but never wait on it for long.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(GOODBYE_TIMEOUT_S):
                        await self.send_json({"type": "resync"})
                        await self.socket.close(code=4408, reason="too_slow")
                return
            async with self._send_lock:
                await self.socket.send_bytes(frame)

    async def send_json(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.socket.send_text(_encode(message).decode())

    async def serve(self) -> None:
        ticket = self.socket.query_params.get("ticket")
        try:
            if ticket:
                self.actor = self.gate.actor_from_token(ticket, kind="ws")
            else:  # non-browser clients may send `Authorization` (or dev headers, when enabled)
                self.actor = self.gate.identify(self.socket.headers)
        except ApiError as error:
            await self.socket.close(code=4401, reason=error.code)
            return
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                event = await self.socket.receive()
                if event["type"] == "websocket.disconnect":
                    return
                raw = payload_of(event)
                if len(raw) > MAX_FRAME:
                    await self.socket.close(code=1009, reason="frame_too_large")
                    return
                await self.handle(raw)

    async def handle(self, raw: str | bytes) -> None:
        try:
            message = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            await self.send_json(
                {"type": "error", "error": "invalid_message", "detail": str(error)}
            )
            return
        match message:
            case Ping():
                await self.send_json({"type": "pong"})
            case Auth(token=token):
                try:
                    self.actor = self.gate.actor_from_token(token)
                except ApiError as error:
                    await self.send_json(
                        {"type": "error", "error": error.code, "detail": error.detail}
                    )
                else:
                    await self.send_json({"type": "authenticated", "id": self.actor.user})
            case Place(x=x, y=y, colour=colour, op=op):
                await self.place(PlacePixel(x=x, y=y, colour=colour, op=op))

    async def place(self, command: PlacePixel) -> None:
        if self.actor is None:
            await self.send_json(
                {
                    "type": "error",
                    "op": command.op,
                    "error": "unauthenticated",
                    "detail": "sign in to play",
                }
            )
            return
        try:
            self.gate.account_limiter.take(self.actor.user)
            placement = await self.canvases.execute(self.canvas_id, self.actor, command)
        except (RateLimited, CanvasError) as refused:
            refusal: dict[str, Any] = {
                "type": "error",
                "op": command.op,
                "error": refused.code,
                "detail": str(refused),
            }
            if isinstance(refused, (RateLimited, CooldownActive)):
                refusal["wait_ms"] = refused.wait_ms
            await self.send_json(refusal)
        else:
            await self.send_json({"type": "ack", "op": command.op, "version": placement.version})
