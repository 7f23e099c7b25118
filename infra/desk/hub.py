"""A node's side of live desks: ops committed then fanned out on core NATS, joins (the missed
ops, or a snapshot), presence relayed to the other sockets, and which desks have sockets here.

Every frame on `<prefix>.desk.<desk id>` is exactly the JSON text frame the clients get; the
sockets of every node listen to it through `infra.live.fanout.Fanout`. A node hands its own frames to
its own sockets directly and publishes them for the others on a connection of its own that NATS
does not echo to: with desk affinity nearly every frame stays on its node, and a round trip
through the server and back cost each op as much as writing it to the two peers' sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from commands.desk.desks import DeskGone, DeskNotFound, Desks
from commands.desk.wire import ApplyStickerOp, EndIdleSession, FinishSession
from commands.writer_thread import settle
from domain import lww
from domain.desk import Ack, Desk
from infra.desk.keys import DeskSessionKeys
from infra.desk.view import DeskView, StickerOut, sticker_out
from infra.live.fanout import Fanout
from infra.live.socket import text_frame

log = logging.getLogger(__name__)

MAX_CATCH_UP = 1000
"""A client further behind than this many events gets a snapshot instead of the ops."""
OCCUPANCY_TIMEOUT_S = 0.25
PUBLISH_GATHER_S = 0.002
"""How long a node's frames gather before they go to NATS for the other nodes' sockets."""
PRESENCE_INTERVAL_S = 1 / 30
"""At most 30 presence frames a second per client; the latest state wins."""
PRESENCE_TTL_S = 30.0
"""A client silent this long is announced gone."""


# -- frames the server sends (JSON text, tagged by "type") -----------------------------------------


class OpFrame(msgspec.Struct, tag="op"):
    desk_seq: int
    client_id: str
    client_seq: int
    sticker: str
    create: bool
    stamp: tuple[int, int, str]
    fields: dict[str, Any]


class SnapshotFrame(msgspec.Struct, tag="snapshot"):
    epoch: int
    desk_seq: int
    stickers: list[StickerOut]


class SessionFinishedFrame(msgspec.Struct, tag="session_finished"):
    epoch: int


class ClosedFrame(msgspec.Struct, tag="closed"):
    pass


encode = msgspec.json.Encoder().encode


class FrameHead(msgspec.Struct):
    """What a socket needs to know of a fanned-out frame to pass it on or not."""

    type: str
    desk_seq: int = 0
    client_id: str = ""


head_of = msgspec.json.Decoder(FrameHead).decode


def op_frame(desk_seq: int, op: ApplyStickerOp, changes: dict[str, Any]) -> OpFrame:
    return OpFrame(desk_seq, op.client_id, op.client_seq, op.sticker, op.create, op.stamp, changes)


def stored_op_frame(event: Desk.StickerChanged) -> OpFrame:
    stamp = (int(event.stamp[0]), int(event.stamp[1]), str(event.stamp[2]))
    create = isinstance(event, Desk.StickerCreated)
    return OpFrame(
        event.desk_seq,
        event.client_id,
        event.client_seq,
        event.sticker_id,
        create,
        stamp,
        event.changes,
    )


class Joined(NamedTuple):
    """The answer to a `hello`: frames to send, then the client is at `desk_seq` of `epoch`."""

    frames: list[bytes]
    epoch: int
    desk_seq: int


class DeskHub:
    def __init__(
        self,
        desks: Desks,
        view: DeskView,
        nc: NATS,
        frames_nc: NATS,
        *,
        prefix: str,
        capacity: int = 256,
        ttl_s: int,
        session_keys: DeskSessionKeys,
    ) -> None:
        self.desks = desks
        self.view = view
        self.nc = nc
        self.frames_nc = frames_nc
        """Connected with `no_echo`, closed by `stop()`: the fan-out's subscriptions hear the
        other nodes' frames only."""
        self.session_keys = session_keys
        self._prefix = prefix
        self.fanout = Fanout(
            frames_nc, self.subject, context="desk", capacity=capacity, encode=text_frame,
            describe=head_of,
        )
        self._ttl = timedelta(seconds=ttl_s)
        self._sockets: dict[UUID, int] = {}
        self._left: dict[UUID, datetime] = {}
        """Desks whose last socket here left, and when."""
        self._occupancy: Any = None
        self._outgoing: list[tuple[str, bytes]] = []
        self._sender: asyncio.Task[None] | None = None
        self.presence_interval_s = PRESENCE_INTERVAL_S
        self.presence_ttl_s = PRESENCE_TTL_S

    def subject(self, key: str) -> str:
        return f"{self._prefix}.desk.{key}"

    def _occupancy_subject(self, key: str) -> str:
        return f"{self._prefix}.desk_sockets.{key}"

    async def start(self) -> None:
        self._occupancy = await self.nc.subscribe(
            self._occupancy_subject("*"), cb=self._answer_occupancy
        )

    async def stop(self) -> None:
        if self._occupancy is not None:
            with contextlib.suppress(Exception):
                await self._occupancy.unsubscribe()
        if self._sender is not None:  # what is committed still goes out
            await asyncio.wait({self._sender}, timeout=2)
        with contextlib.suppress(Exception):
            await self.frames_nc.drain()

    # -- sockets on this node ---------------------------------------------------------------------

    def entered(self, desk_id: UUID) -> None:
        self._sockets[desk_id] = self._sockets.get(desk_id, 0) + 1
        self._left.pop(desk_id, None)

    def left(self, desk_id: UUID) -> None:
        count = self._sockets.get(desk_id, 0) - 1
        if count > 0:
            self._sockets[desk_id] = count
            return
        self._sockets.pop(desk_id, None)
        self._left[desk_id] = self.desks.clock()

    def sockets(self, desk_id: UUID) -> int:
        return self._sockets.get(desk_id, 0)

    async def _answer_occupancy(self, message: Any) -> None:
        with contextlib.suppress(ValueError):
            if self._sockets.get(UUID(message.subject.rsplit(".", 1)[1])):
                await message.respond(b"1")

    async def occupied_anywhere(self, desk_id: UUID) -> bool:
        if self._sockets.get(desk_id):
            return True
        try:
            await self.nc.request(
                self._occupancy_subject(str(desk_id)), b"", timeout=OCCUPANCY_TIMEOUT_S
            )
        except (TimeoutError, NoRespondersError, NatsTimeout):
            return False
        return True

    def idle_since(self, moment: datetime) -> tuple[list[UUID], datetime | None]:
        """Desks whose last socket here left at or before `moment`, forgotten from now on, and
        when the next one will have been idle that long (relative to `moment`)."""
        due = [desk_id for desk_id, at in self._left.items() if at <= moment]
        for desk_id in due:
            del self._left[desk_id]
        later = min(self._left.values(), default=None)
        return due, later

    # -- commands ---------------------------------------------------------------------------------

    def submit_op(self, desk_id: UUID, op: ApplyStickerOp, reply: Callable[[Any], None]) -> None:
        """Queue an op for the writer; once committed it is fanned out to every node's sockets
        of the desk (a resend is not fanned out again: it changed nothing), then `reply` gets
        the `Ack`, or the exception that refused the op."""
        self.desks.writer.submit_reply(
            desk_id, op, functools.partial(self._committed, desk_id, op, reply)
        )

    async def apply_op(self, desk_id: UUID, op: ApplyStickerOp) -> Ack:
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self.submit_op(desk_id, op, functools.partial(settle, future))
        return await future

    def _committed(
        self, desk_id: UUID, op: ApplyStickerOp, reply: Callable[[Any], None], answer: Any
    ) -> None:
        if type(answer) is Ack and not answer.replayed:
            self._fan_out_op(desk_id, op, answer)
        reply(answer)

    def _fan_out_op(self, desk_id: UUID, op: ApplyStickerOp, ack: Ack) -> None:
        changes = op.fields.changes()
        if op.create:  # as stored: a create sets every field
            changes = {**lww.DEFAULTS, **changes}
        self.publish(desk_id, encode(op_frame(ack.desk_seq, op, changes)))

    async def finish_session(self, desk_id: UUID, command: FinishSession) -> int:
        epoch: int = await self.desks.execute(desk_id, command)
        self.publish(desk_id, encode(SessionFinishedFrame(epoch)))
        return epoch

    async def end_idle_session(self, desk_id: UUID) -> int | None:
        """End the desk's session when no node has a socket on it; the new epoch, if ended."""
        if await self.occupied_anywhere(desk_id):
            return None
        try:
            epoch: int = await self.desks.execute(desk_id, EndIdleSession())
        except (DeskGone, DeskNotFound):
            return None
        self.publish(desk_id, encode(SessionFinishedFrame(epoch)))
        return epoch

    def closed(self, desk_id: UUID) -> None:
        """Tell the desk's sockets everywhere that it expired."""
        self.publish(desk_id, encode(ClosedFrame()))

    def publish(self, desk_id: UUID, frame: bytes) -> None:
        """To the desk's sockets here at once, and through NATS to every other node's (in the
        order given, by one task for however many frames come meanwhile)."""
        key = str(desk_id)
        self.fanout.add(key, frame)
        self._outgoing.append((self.subject(key), frame))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_outgoing())

    async def _send_outgoing(self) -> None:
        # A moment for more frames to join: NATS's client writes what is pending at once, and
        # with desk affinity these frames are for nobody most of the time.
        await asyncio.sleep(PUBLISH_GATHER_S)
        while self._outgoing:
            frames, self._outgoing = self._outgoing, []
            for subject, frame in frames:
                try:
                    await self.frames_nc.publish(subject, frame)
                except Exception:  # the op is committed; clients catch up by desk_seq
                    log.exception("could not fan out a frame on %s", subject)

    # -- joining ----------------------------------------------------------------------------------

    async def check(self, desk_id: UUID) -> None:
        """Raises `DeskNotFound` or `DeskGone`, or returns: the desk is live."""
        head = await self.view.find_head(desk_id)
        if head is None:
            await asyncio.to_thread(self.desks.get_desk, desk_id)
        elif head.last_edit_at + self._ttl <= self.desks.clock():
            raise DeskGone("this desk has expired")

    async def join(self, desk_id: UUID, epoch: int, last_seq: int) -> Joined:
        """What a client at `last_seq` of `epoch` lacks: the ops after it, or a snapshot when
        the epoch changed or it is too far behind. Raises `DeskNotFound` or `DeskGone`."""
        head = await self.view.find_head(desk_id)
        desk: Desk | None = None
        if head is None:  # not projected yet (or never will be): the store decides
            desk = await asyncio.to_thread(self.desks.get_desk, desk_id)
            head_epoch = desk.epoch
        elif head.last_edit_at + self._ttl <= self.desks.clock():
            raise DeskGone("this desk has expired")
        else:
            head_epoch = head.epoch
        if epoch == head_epoch:
            tail = await asyncio.to_thread(self.desks.ops_since, desk_id, last_seq, MAX_CATCH_UP)
            # A session that ended after `last_seq` may not be in the read model yet.
            if tail is not None and not tail.sessions_finished:
                frames = [encode(stored_op_frame(op)) for op in tail.ops]
                return Joined(frames, head_epoch, tail.ops[-1].desk_seq if tail.ops else last_seq)
        return await self._snapshot(desk_id, desk)

    async def _snapshot(self, desk_id: UUID, desk: Desk | None) -> Joined:
        view = await self.view.find_desk(desk_id)
        if view is not None:
            # The read model lags a little: the ops it has not folded yet follow the snapshot.
            tail = await asyncio.to_thread(
                self.desks.ops_since, desk_id, view.desk_seq, MAX_CATCH_UP
            )
            if tail is not None and not tail.sessions_finished:
                frames = [encode(SnapshotFrame(view.epoch, view.desk_seq, view.stickers))]
                frames += [encode(stored_op_frame(op)) for op in tail.ops]
                seq = tail.ops[-1].desk_seq if tail.ops else view.desk_seq
                return Joined(frames, view.epoch, seq)
        if desk is None:
            desk = await asyncio.to_thread(self.desks.get_desk, desk_id)
        stickers = [sticker_out(key, registers) for key, registers in desk.stickers.items()]
        frames = [encode(SnapshotFrame(desk.epoch, desk.desk_seq, stickers))]
        return Joined(frames, desk.epoch, desk.desk_seq)
