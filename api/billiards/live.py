"""A match's live scoreboard, `/api/billiards/matches/{id}/live[?since=V]`: JSON text frames.

Anyone may watch (players and spectators alike). On connecting, a client at match version `V`
(`since`, 0 or absent for a new one) gets what it missed: the `update`s after `V` from the event
store, or the `board` as it is (new, or too far behind); then `synced {version}`, then every
`update {version, events, board}` as it is committed (an update's board holds what changes:
players, scorekeeper, scores, order, turn, on_table, remaining, owed, fouls, shots, from_hand,
last_shot, finished; the rules and ids are in the first `board`). A client that sees a gap in `version`, or
reconnects, sends `hello {since}` (or connects with `?since=`) and resumes from there.

The scorekeeper may record on the same socket (signed in: `?ticket=`, an `Authorization` header,
or in development `X-Dev-User`): `shot {key, shooter, balls?, numbers?, cue?, fouls?, on_ball?}`
and `undo {key}`, answered after commit by `ack {key, version, replayed}` or
`error {key, error, detail}`, as `POST …/shots` and `…/undo` answer; the shot's `update` comes
to every socket of the match, this one included.

Client → server: `hello {since}`, `ping`, `shot`, `undo`. Server → client: `board`, `update`,
`synced`, `ack`, `pong`, `error {error, detail}`, `resync` (fell behind: the socket closes with
4408).
Close codes: 4404 unknown match, 4403 foreign origin, 1009 a frame over 4 KB.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath

from api.auth import Gate, origin_allowed
from api.billiards.parts import provide_billiards
from api.errors import ApiError, Refusal, close_socket, decode_refusal, refusal
from api.live import receive_frames
from commands.actor import Actor
from commands.billiards.billiards import Decided
from commands.billiards.wire import Act, RecordShot, Undo
from domain.billiards.errors import MatchNotFound
from infra.billiards.hub import FrameHead, MatchHub, head_of
from infra.live.fanout import Frame, Listener
from infra.live.sender import Sender
from infra.live.socket import frame_sink
from infra.tasks import until_first_ends

MAX_FRAME = 4 * 1024
_encode = msgspec.json.Encoder().encode


class Hello(msgspec.Struct, tag="hello", forbid_unknown_fields=True):
    since: int = 0


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    pass


class ShotIn(RecordShot, tag="shot", forbid_unknown_fields=True):
    pass


class UndoIn(Undo, tag="undo", forbid_unknown_fields=True):
    pass


_decode = msgspec.json.Decoder(Hello | Ping | ShotIn | UndoIn).decode


@websocket("/api/billiards/matches/{match_id:uuid}/live")
async def match_live(socket: WebSocket[Any, Any, Any], match_id: FromPath[UUID]) -> None:
    if not origin_allowed(socket):
        await close_socket(socket, "origin_not_allowed")
        return
    hub = provide_billiards(socket.app.state).hub
    await socket.accept()
    try:
        since = max(0, int(socket.query_params.get("since", "0")))
    except ValueError:
        since = 0
    try:
        actor = await _who(socket)
    except ApiError as error:
        await close_socket(socket, error.code)
        return
    key = str(match_id)
    listener = await hub.fanout.listen(key)
    await hub.frames_nc.flush()  # subscribed before the catch-up is read: nothing falls between
    connection = _Watcher(socket, hub, match_id, listener, actor)
    try:
        if await connection.catch_up(since):
            await until_first_ends(connection.forward(), connection.serve())
    finally:
        await hub.fanout.leave(key, listener)


async def _who(socket: WebSocket[Any, Any, Any]) -> Actor | None:
    """Who may record on this socket: a ticket's account, the headers' (or nobody: watching)."""
    gate = socket.app.state.gate
    assert isinstance(gate, Gate)
    ticket = socket.query_params.get("ticket")
    if ticket:
        return await gate.actor_from_ticket(ticket)
    return gate.identify(socket.headers)


class _Watcher:
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        hub: MatchHub,
        match_id: UUID,
        listener: Listener,
        actor: Actor | None,
    ) -> None:
        self.actor = actor
        self.socket = socket
        self.hub = hub
        self.match_id = match_id
        self.listener = listener
        self.sink = frame_sink(socket.scope)
        self.out = Sender(socket, self.sink, "text")
        self.version = 0
        self._ready = asyncio.Event()

    async def catch_up(self, since: int) -> bool:
        """Send what a client at `since` missed; False when there is no such match."""
        self._ready.clear()
        self.listener.attach(None)
        try:
            frames, version = await self.hub.frames_since(self.match_id, since)
        except MatchNotFound:
            await close_socket(self.socket, "match_not_found")
            return False
        await self.out.send_many([*frames, _encode({"type": "synced", "version": version})])
        self.version = version
        self._ready.set()
        if self.sink is not None:
            self.listener.attach(self.sink, self.admit)
        return True

    def admit(self, head: FrameHead) -> bool:
        """A live frame goes out unless the catch-up already brought the client past it."""
        if head.version <= self.version:
            return False
        self.version = head.version
        return True

    async def forward(self) -> None:
        while (frames := await self.out.next_frames(self.listener, self._ready)) is not None:
            out: list[Frame] = [frame for frame in frames if self.admit(head_of(frame[0]))]
            await self.out.send_frames(out)

    async def serve(self) -> None:
        await receive_frames(self.socket, MAX_FRAME, self.handle)

    async def handle(self, raw: str | bytes) -> bool:
        try:
            message = _decode(raw)
        except msgspec.DecodeError as error:
            told = decode_refusal(error)
            await self.out.send(_encode(told.frame("billiards")))
            return True
        match message:
            case Ping():
                await self.out.send(b'{"type":"pong"}')
            case Hello(since=since):
                return await self.catch_up(since)
            case ShotIn() | UndoIn():
                self.record(message)
        return True

    def record(self, message: ShotIn | UndoIn) -> None:
        """Hand a shot or an undo to the writer; its answer is sent once committed."""
        if self.actor is None:
            told = Refusal.of("unauthenticated", "sign in to keep the score")
            self.out.send_now([_encode(told.frame("billiards", key=message.key))])
            return
        command = (
            RecordShot(**{f: getattr(message, f) for f in RecordShot.__struct_fields__})
            if isinstance(message, ShotIn)
            else Undo(key=message.key)
        )
        task = asyncio.get_running_loop().create_task(
            self.hub.execute(self.match_id, Act(self.actor.user, command))
        )
        task.add_done_callback(lambda done: self._answer(message.key, done))

    def _answer(self, key: str, done: asyncio.Task[Decided]) -> None:
        error = done.exception()
        if error is None:
            decided = done.result()
            frame = {"type": "ack", "key": key, "version": decided.version,
                     "replayed": decided.replayed}
            self.out.send_now([_encode(frame)])
            return
        self.out.send_now([_encode(refusal(error).frame("billiards", key=key))])
