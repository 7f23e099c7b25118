"""A desk's live socket, `/api/desk/{id}/live`: JSON text frames tagged by `"type"`.

Client → server:
- `hello {client_id, session_key, epoch, last_seq, access_token?}`: first, and again after a gap
  in `desk_seq` (`client_id` and `session_key` as `/api/desk/init` gave them; a wrong key closes
  with 4403). With a signed-in account's access token, the account finds this desk by its name
  from then on (as `…/session` does); a bad token is told (`error invalid_token`) and ignored;
- `op {client_id, client_seq, sticker, stamp, fields, create?, seen?}` (as `POST …/ops`);
- `presence {cursor?, selection?, drag?, name?}`: relayed to the others, at most 30 a second;
- `ping`.

Server → client: the missed `op`s, or a `snapshot {epoch, desk_seq, stickers}` then the ops
after it, then `synced {epoch, desk_seq}`; live `op {desk_seq, client_id, client_seq, sticker,
create, stamp, fields}` of everyone else; `ack {client_seq, desk_seq, applied, superseded,
replayed}` after commit (an author's own live ops are not echoed: their `desk_seq` is in the ack,
so a client counts `desk_seq`s from ops and acks together); `collision {sticker, field, lost,
winner, winner_stamp}` (to the author only); `presence {client_id, cursor, selection, drag, name}`,
`gone {client_id}`; `session_finished {epoch}`; `error {error, detail, field?, client_seq?,
expected_seq?, server_ms?, wait_ms?}` (`try_again`: nothing was saved, send the op again after
`wait_ms`);
`resync` (fell behind: the socket closes with 4408); `pong`.

Close codes: 4404 unknown desk, 4410 expired, 4403 foreign origin or a wrong session key,
4408 too slow, 1009 a frame over 64 KB.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath

from api.auth import origin_allowed, socket_actor
from api.desk.frames import (
    AckFrame,
    CollisionFrame,
    Hello,
    Op,
    Ping,
    PresenceIn,
    PresenceOut,
    client_seq_of,
    decode_inbound,
    error_frame,
)
from api.desk.parts import DeskParts, provide_desk
from api.errors import GONE, ApiError, close_socket, database_away, decode_refusal, kind_of, refusal
from api.live import receive_frames
from commands.desk.desks import DeskGone, DeskNotFound, desk_id_of
from domain.desk import Ack
from infra.desk.hub import DeskHub, FrameHead, encode, head_of
from infra.live.fanout import Frame, Listener
from infra.live.sender import Sender
from infra.live.socket import frame_sink
from infra.live.throttle import Throttle
from infra.tasks import until_first_ends

MAX_FRAME = 64 * 1024
MAX_IN_FLIGHT = 64
"""Ops of one socket waiting for the writer before the socket stops reading."""

log = logging.getLogger(__name__)


@websocket("/api/desk/{desk_id:str}/live")
async def desk_live(socket: WebSocket[Any, Any, Any], desk_id: FromPath[str]) -> None:
    if not origin_allowed(socket):
        await close_socket(socket, "origin_not_allowed")
        return
    parts = provide_desk(socket.app.state)
    hub = parts.hub
    await socket.accept()
    try:
        desk = desk_id_of(desk_id)
        await hub.check(desk)
    except DeskNotFound:
        await close_socket(socket, "desk_not_found")
        return
    except DeskGone:
        await close_socket(socket, "desk_gone")
        return
    except Exception as error:
        if not database_away(error):
            raise
        await close_socket(socket, "unavailable")  # 1013: try again later
        return
    key = str(desk)
    listener = await hub.fanout.listen(key)
    await hub.frames_nc.flush()  # subscribed before any catch-up is read: no op falls in between
    hub.entered(desk)
    connection = _Connection(socket, parts, desk, listener)
    try:
        await until_first_ends(connection.forward(), connection.serve())
    finally:
        await connection.goodbye()
        hub.left(desk)
        await hub.fanout.leave(key, listener)


class _Connection:
    def __init__(
        self, socket: WebSocket[Any, Any, Any], parts: DeskParts, desk: UUID, listener: Listener
    ) -> None:
        self.socket = socket
        self.parts = parts
        self.hub: DeskHub = parts.hub
        self.desk = desk
        self.listener = listener
        self.client_id = ""
        self.sink = frame_sink(socket.scope)
        """Under `infra.live.socket`'s protocol: frames written straight to the transport."""
        self.out = Sender(socket, self.sink, "text")
        self._ready = asyncio.Event()
        """Set once a `hello` was answered; cleared while one is being answered."""
        self._joined_seq = 0
        self._presence = Throttle[bytes](self._publish, interval_s=self.hub.presence_interval_s)
        self._present = False
        self._last_presence = 0.0
        self._silence: asyncio.TimerHandle | None = None
        self._in_flight = 0
        """Ops sent to the writer and not answered yet; past `MAX_IN_FLIGHT` the socket stops
        reading until half of them are answered."""
        self._reading_paused = False
        self._accounts: set[str] = set()
        """The accounts this socket's hellos named as openers of the desk already."""

    async def error(self, code: str, detail: str, **extra: Any) -> None:
        await self.out.send(error_frame(code, detail, **extra))

    # -- frames out -------------------------------------------------------------------------------

    async def forward(self) -> None:
        """Fanned-out frames, in order, once joined; a slow client is told to resync.

        Under `infra.live.socket`'s protocol the fan-out writes a joined client's frames straight
        to its socket, judged by `admit`; this task sends what queued meanwhile (during a
        catch-up, while the socket's buffer was full) and what only it can do (a desk's close)."""
        # A new hello clears `_ready` while it is answered: its catch-up goes first.
        while (frames := await self.out.next_frames(self.listener, self._ready)) is not None:
            out: list[Frame] = []
            for frame in frames:
                verdict = self.admit(head_of(frame[0]))
                if verdict is None:  # the desk closed
                    await self.out.send_frames(out)
                    await close_socket(self.socket, "desk_gone")
                    return
                if verdict:
                    out.append(frame)
            await self.out.send_frames(out)

    def admit(self, head: FrameHead) -> bool | None:
        """Whether a fanned-out frame goes to this client: not an op it got with its catch-up,
        nor its own op or presence; None for the desk's closing."""
        match head.type:
            case "op":  # an author hears of its own ops by their ack
                return head.desk_seq > self._joined_seq and head.client_id != self.client_id
            case "presence" | "gone":
                return head.client_id != self.client_id
            case "closed":
                return None
        return True

    # -- frames in --------------------------------------------------------------------------------

    async def serve(self) -> None:
        await receive_frames(self.socket, MAX_FRAME, self.handle)

    async def handle(self, raw: str | bytes) -> bool:
        """Answer one message that came through `receive`; False when the socket is done."""
        try:
            message = decode_inbound(raw)
        except msgspec.DecodeError as error:  # a ValidationError too
            told = decode_refusal(error)
            await self.error(told.code, told.detail, **client_seq_of(raw), **told.extra)
            return True
        match message:
            case Ping():
                await self.out.send(b'{"type":"pong"}')
            case Hello():
                if not await self.hello(message):
                    return False
            case _ if not self.client_id:
                await self.error("hello_first", "send hello before anything else")
            case Op():
                self.op(message)
            case PresenceIn():
                self.presence(message)
        if self.sink is not None and self._ready.is_set() and self.sink.queue.empty():
            self.sink.deliver_to(self.take)  # nothing waits in `receive`: none is overtaken
        return True

    def take(self, raw: bytes) -> bool:
        """A message straight from the protocol, once joined: ops, presence and pings are dealt
        with on the spot; anything else (a new hello, a bad frame) goes through `handle`."""
        if len(raw) > MAX_FRAME:
            return False
        try:
            message = decode_inbound(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return False
        match message:
            case Op() if message.client_id == self.client_id:
                self.op(message)
            case PresenceIn():
                self.presence(message)
            case Ping():
                self.out.send_now([b'{"type":"pong"}'])
            case _:
                return False
        return True

    async def hello(self, hello: Hello) -> bool:
        if not self.hub.session_keys.valid(self.desk, hello.client_id, hello.session_key):
            await close_socket(self.socket, "bad_session_key")
            return False
        self._ready.clear()  # live frames wait until the catch-up is out
        self.listener.attach(None)
        try:
            joined = await self.hub.join(self.desk, hello.epoch, hello.last_seq)
        except DeskNotFound:
            await close_socket(self.socket, "desk_not_found")
            return False
        except DeskGone:
            await close_socket(self.socket, "desk_gone")
            return False
        except Exception as error:
            if not database_away(error):
                raise
            await close_socket(self.socket, "unavailable")  # 1013: try again later
            return False
        if self.client_id and self.client_id != hello.client_id and self._present:
            self._announce_gone()
        self.client_id = hello.client_id
        synced = encode({"type": "synced", "epoch": joined.epoch, "desk_seq": joined.desk_seq})
        await self.out.send_many([*joined.frames, synced])
        self._joined_seq = joined.desk_seq
        self._ready.set()
        if self.sink is not None:
            self.listener.attach(self.sink, self.admit)
        if hello.access_token:
            await self._opened_by_account(hello.access_token)
        return True

    async def _opened_by_account(self, token: str) -> None:
        """The signed-in account finds this desk by its name from now on, in any browser."""
        try:
            actor = socket_actor(self.socket, token)
        except ApiError as error:
            await self.error(error.code, error.detail)
            return
        opener = f"account:{actor.user}"
        if opener in self._accounts:
            return
        try:
            found = await self.parts.reads.get_desk(self.desk)
            await asyncio.to_thread(
                self.parts.desks.remember_openers, self.desk, found.name, [opener]
            )
        except (DeskNotFound, DeskGone):
            return  # the socket hears of it by the desk's closing
        except Exception as error:
            if not database_away(error):
                raise
            return  # noted at the next hello
        self._accounts.add(opener)

    def op(self, op: Op) -> None:
        """Hand an op to the writer; its answer is sent when it comes (`_answer`): a client may
        have many ops in flight, answered in order."""
        if op.client_id != self.client_id:
            wrong = "an op carries the client_id of the hello"
            self.out.send_now([error_frame("wrong_client", wrong, client_seq=op.client_seq)])
            return
        self._in_flight += 1
        if self._in_flight >= MAX_IN_FLIGHT and self.sink is not None and not self._reading_paused:
            self._reading_paused = True
            self.sink.transport.pause_reading()
        self.hub.submit_op(self.desk, op, functools.partial(self._answer, op.client_seq))

    def _answer(self, client_seq: int, answer: Ack | BaseException) -> None:
        self._in_flight -= 1
        if self._reading_paused and self._in_flight <= MAX_IN_FLIGHT // 2:
            self._reading_paused = False
            if self.sink is not None and self.sink.frames_open():
                self.sink.transport.resume_reading()
        if isinstance(answer, Ack):
            frame = AckFrame(
                answer.client_seq, answer.desk_seq, answer.applied, answer.superseded,
                answer.replayed,
            )
            collisions = answer.collisions
            self.out.send_now([encode(frame), *(encode(CollisionFrame(*c)) for c in collisions)])
            return
        if kind_of(answer) is None:
            log.error("desk %s: an op failed", self.desk, exc_info=answer)
            self._close_soon("internal")
            return
        # Refused, or nothing was saved (`try_again`: send it again).
        told = refusal(answer)
        refusal_frame = error_frame(told.code, told.detail, client_seq=client_seq, **told.extra)
        self.out.send_now([refusal_frame])
        if told.kind is GONE:
            self._close_soon("desk_gone")

    def _close_soon(self, code: str) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                await close_socket(self.socket, code)

        asyncio.get_running_loop().create_task(close())

    # -- presence: relayed, never stored ------------------------------------------------------------

    def presence(self, message: PresenceIn) -> None:
        out = PresenceOut(
            self.client_id, message.cursor, message.selection, message.drag, message.name
        )
        self._presence.offer(encode(out))
        self._present = True
        self._last_presence = time.monotonic()
        if self._silence is None:
            self._arm_silence(self.hub.presence_ttl_s)

    def _arm_silence(self, delay: float) -> None:
        self._silence = asyncio.get_running_loop().call_later(delay, self._check_silence)

    def _check_silence(self) -> None:
        self._silence = None
        quiet = time.monotonic() - self._last_presence
        if quiet >= self.hub.presence_ttl_s:
            self._announce_gone()
        else:
            self._arm_silence(self.hub.presence_ttl_s - quiet)

    def _announce_gone(self) -> None:
        self._present = False
        self._presence.cancel()
        self._publish(encode({"type": "gone", "client_id": self.client_id}))

    def _publish(self, frame: bytes) -> None:
        self.hub.publish(self.desk, frame)

    async def goodbye(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
        if self._present:
            self._present = False
            self._presence.cancel()
            self.hub.publish(self.desk, encode({"type": "gone", "client_id": self.client_id}))
