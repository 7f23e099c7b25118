"""The canvas's live socket: binary delta frames out, JSON control messages both ways.

Opened with `?since=<version>` (a client that holds the board at that version, reconnecting),
its first frame is what the client missed: a binary delta from `since` (empty when nothing), or
an error frame without `op` (`gone`: the version left the delta ring, `version_in_future`,
`invalid_version`, `unavailable`), after which the client catches up over HTTP.

Server → client: binary frames, each a delta as on NATS or several consecutive ones merged into
one (16-byte `from, to` header, then u32 entries); JSON `{"type": "ack", "op", "version",
"replayed"}` (`replayed`: a resend of an op placed before, `version` is what it produced then),
`{"type": "error", "op"?, "error", "detail", "field"?, …}` (`invalid_text` names the field that
held a control character), `{"type": "resync"}` (you fell behind: reload the snapshot; the socket
closes),
`{"type": "status", "state": "playing"|"queued"|"afk", "position", "queue_length", "players",
"cap"}` (signed-in sockets, on every change; after `afk` the socket closes with 4001).
Client → server: `{"type": "auth", "token"}` (first, optional: spectators skip it),
`{"type": "place", "x", "y", "colour", "op"?}`, `{"type": "ping"}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath

from api.auth import Gate, origin_allowed
from api.canvas.parts import CanvasParts, provide_canvas
from api.canvas.reads import CanvasReads
from api.errors import ApiError, Refusal, close_socket, database_away, decode_refusal, refusal
from api.live import receive_frames
from commands.actor import Actor
from commands.canvas.wire import ColourIndex, Coordinate, OpId, PlacePixel
from commands.text import Line
from commands.writer import WriterBusy, WriterStopped
from domain.canvas import CanvasError
from domain.roster import PlayerState, Standing
from infra.canvas.presence import Presence, RosterUnavailable
from infra.live.fanout import Fanout, Listener
from infra.live.sender import Sender
from infra.live.socket import binary_frame, frame_sink
from infra.ratelimit import RateLimited
from infra.tasks import until_first_ends

MAX_FRAME = 4096


class Auth(msgspec.Struct, tag="auth", forbid_unknown_fields=True):
    token: Annotated[Line, msgspec.Meta(max_length=4096)]


class Place(msgspec.Struct, tag="place", forbid_unknown_fields=True):
    x: Coordinate
    y: Coordinate
    colour: ColourIndex
    op: OpId | None = None


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    pass


Inbound = Auth | Place | Ping
decode_inbound = msgspec.json.Decoder(Inbound, strict=True).decode
_encode = msgspec.json.Encoder().encode


@websocket("/api/canvas/{canvas_id:uuid}/live")
async def canvas_live(socket: WebSocket[Any, Any, Any], canvas_id: FromPath[UUID]) -> None:
    if not origin_allowed(socket):
        await close_socket(socket, "origin_not_allowed")
        return
    parts = provide_canvas(socket.app.state)
    await socket.accept()
    try:
        await parts.reads.get_canvas(canvas_id)  # cached: sockets opening at once ask once
    except ApiError as error:
        await close_socket(socket, error.code)
        return
    except Exception as error:
        if not database_away(error):
            raise
        await close_socket(socket, "unavailable")  # 1013: try again later
        return
    # A signed-out viewer takes one of the node's live seats, or polls instead (told 1013).
    watcher = not _credentials(socket)
    if watcher and not parts.spectators.take():
        await close_socket(socket, "unavailable")
        return
    fanout: Fanout = parts.fanout
    listener = await fanout.listen(str(canvas_id))
    session = _Session(socket, socket.app.state.gate, parts, canvas_id)
    # Three parts: frames out, messages in, the player's standing. Whichever ends (a drop, a
    # disconnect, going AFK) ends them all.
    try:
        since = socket.query_params.get("since")
        if since is not None:  # after `listen`: no delta falls between the two
            await session.catch_up(parts.reads, since)
        await until_first_ends(
            session.forward(listener), session.serve(), session.report_standing()
        )
    finally:
        if watcher:
            parts.spectators.give_back()
        parts.presence.unseat(session.canvas, session)
        await fanout.leave(str(canvas_id), listener)


def _version_of(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ApiError("invalid_version", f"since={text[:40]!r} is not a whole number from 0 up")
    return int(text)


def _credentials(socket: WebSocket[Any, Any, Any]) -> bool:
    """Whether the socket came signed in (a ticket, a token, a development identity). One
    that signs in later with an `auth` message keeps the seat it took as a viewer."""
    headers = socket.headers
    return bool(
        socket.query_params.get("ticket") or "authorization" in headers or "x-dev-user" in headers
    )


class _Session:
    def __init__(
        self, socket: WebSocket[Any, Any, Any], gate: Gate, parts: CanvasParts, canvas_id: UUID
    ) -> None:
        self.socket = socket
        self.gate = gate
        self.canvases = parts.canvases
        self.presence: Presence = parts.presence
        self.canvas_id = canvas_id
        self.canvas = str(canvas_id)
        self.actor: Actor | None = None
        self.user = ""
        self.out = Sender(socket, frame_sink(socket.scope), "binary")
        self._standing: Standing | None = None
        self._standing_changed = asyncio.Event()

    async def forward(self, listener: Listener) -> None:
        """Live frames to the client, in order; a resync notice ends the connection.

        Under `infra.live.socket`'s protocol the fan-out writes frames straight to the socket
        while it keeps up, and this only flushes what queued up while it did not."""
        out = self.out
        listener.attach(out.sink)
        while (frames := await out.next_frames(listener)) is not None:
            if not await out.send_frames(frames):
                return

    async def catch_up(self, reads: CanvasReads, since: str) -> None:
        """What the client missed after the version it holds (`?since=`), as the socket's first
        frame: one binary delta from `since`, or an error frame (`gone`, `version_in_future`,
        `invalid_version`, `unavailable`) after which the client catches up over HTTP. One
        round trip fewer for every socket that reconnects, and no gap between the catch-up and
        the live frames (the fan-out holds them until `forward` starts)."""
        try:
            delta = await reads.deltas_since(self.canvas_id, _version_of(since))
        except Exception as error:
            if not (isinstance(error, ApiError) or database_away(error)):
                raise
            await self.send_json(refusal(error).frame("canvas"))
            return
        await self.out.send_frames([(delta, binary_frame(delta))])

    # -- the player's standing: playing, queued, AFK -------------------------------------------

    async def take_seat(self, actor: Actor) -> bool:
        """A signed-in socket asks to play, then hears of every change to its standing. When the
        roster cannot be reached the client is told so and the socket closes (1013: try again
        later); returns False then."""
        if self.user:
            self.presence.unseat(self.canvas, self)
        self.actor, self.user = actor, actor.user
        try:
            standing = await self.presence.join(self.canvas, self.user)
        except RosterUnavailable as error:
            await self.send_json(refusal(error).frame("canvas"))
            await close_socket(self.socket, "unavailable")
            return False
        self.presence.seat(self.canvas, self)
        self.standing_changed(standing)
        return True

    def standing_changed(self, standing: Standing) -> None:
        self._standing = standing
        self._standing_changed.set()

    async def report_standing(self) -> None:
        """Sends the latest standing whenever it changes; going AFK ends the connection (the
        client falls back to spectating)."""
        told: tuple[PlayerState, int | None] | None = None
        while True:
            await self._standing_changed.wait()
            self._standing_changed.clear()
            standing = self._standing
            # Only a new state or queue place is news: counts alone would tell every socket of
            # every arrival (the counts ride along when there is news).
            if standing is None or (standing.state, standing.position) == told:
                continue
            told = standing.state, standing.position
            await self.send_json(
                {
                    "type": "status",
                    "state": standing.state,
                    "position": standing.position,
                    "queue_length": standing.queue_length,
                    "players": standing.players,
                    "cap": self.presence.cap,
                }
            )
            if standing.state is PlayerState.AFK:
                await close_socket(self.socket, "afk")
                return

    def send_json(self, message: dict[str, Any]) -> Coroutine[Any, Any, None]:
        # Not a coroutine itself: the caller awaits the sender's, one coroutine a message.
        return self.out.send(_encode(message))

    async def serve(self) -> None:
        ticket = self.socket.query_params.get("ticket")
        try:
            if ticket:
                self.actor = await self.gate.actor_from_ticket(ticket)
            else:  # non-browser clients may send `Authorization` (or dev headers, when enabled)
                self.actor = self.gate.identify(self.socket.headers)
        except ApiError as error:
            await close_socket(self.socket, error.code)
            return
        if self.actor is not None and not await self.take_seat(self.actor):
            return
        await receive_frames(self.socket, MAX_FRAME, self.handle)

    async def handle(self, raw: str | bytes) -> bool:
        """Answers one message; False once the socket is closed."""
        try:
            message = decode_inbound(raw)
        except msgspec.DecodeError as error:  # a ValidationError too
            await self.send_json(decode_refusal(error).frame("canvas"))
            return True
        match message:
            case Ping():
                await self.send_json({"type": "pong"})
            case Auth(token=token):
                try:
                    actor = self.gate.actor_from_token(token)
                except ApiError as error:
                    await self.send_json(refusal(error).frame("canvas"))
                else:
                    await self.send_json({"type": "authenticated", "id": actor.user})
                    return await self.take_seat(actor)
            case Place(x=x, y=y, colour=colour, op=op):
                await self.place(PlacePixel(x=x, y=y, colour=colour, op=op))
        return True

    async def place(self, command: PlacePixel) -> None:
        if self.actor is None:
            told = Refusal.of("unauthenticated", "sign in to play")
            await self.send_json(told.frame("canvas", op=command.op))
            return
        if not self.presence.is_playing(self.canvas, self.user):
            standing = self.presence.standing(self.canvas, self.user)
            detail = f"you are {standing.state}: wait for your turn"
            told = Refusal.of("not_playing", detail, position=standing.position)
            await self.send_json(told.frame("canvas", op=command.op))
            return
        try:
            self.gate.account_limiter.take(self.actor.user)
            placement = await self.canvases.execute(self.canvas_id, self.actor, command)
        # Refused, or nothing was placed (a lost write race, a stopping node): the same op may
        # go again.
        except (RateLimited, CanvasError, WriterBusy, WriterStopped) as refused:
            await self.send_json(refusal(refused).frame("canvas", op=command.op))
        else:
            cooldown_ms = 0 if self.actor.is_admin else self.canvases.cooldown_ms(self.canvas_id)
            self.presence.acted(self.canvas, self.user, cooldown_ms)
            await self.send_json(
                {
                    "type": "ack",
                    "op": command.op,
                    "version": placement.version,
                    "replayed": placement.replayed,
                }
            )
