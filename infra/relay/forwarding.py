"""Frames between nodes, over core NATS: a room lives on one node (its owner); a client whose
socket reached another node (its edge) has its frames forwarded to the owner, and the owner's
frames for it come back the same way. Each node listens on `<prefix>.relay.node.<node>`.

What one node sends another within one turn of its event loop goes as one NATS message (a
msgpack list of items, in order), so a broadcast to many clients of one edge costs one publish,
and one sender's frames keep their order end to end.

Items to an owner: `[FRAME, edge, cid, address, raw]`, `[GONE, edge, cid]`, `[CLOSE, number]`;
to an edge: `[OUT, cid, wire]`, `[END, cid, code, reason]`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from infra.relay.session import Session

log = logging.getLogger(__name__)

FRAME, GONE, CLOSE, OUT, END = range(5)

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


class RemoteMember:
    """A client of a room this node owns whose socket is on another node (its edge)."""

    __slots__ = ("address", "cid", "client_id", "closed", "edge", "forwarder", "room", "secret")

    def __init__(self, forwarder: Forwarder, edge: str, cid: int, address: str) -> None:
        self.forwarder = forwarder
        self.edge = edge
        self.cid = cid
        self.address = address
        self.client_id = -1
        self.secret = 0
        self.room: object | None = None
        self.closed = False

    def send(self, wire: bytes) -> None:
        if not self.closed:
            self.forwarder.queue(self.edge, [OUT, self.cid, wire])

    def end(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            self.forwarder.queue(self.edge, [END, self.cid, code, reason])


OwnerSide = Callable[[list[Any]], Awaitable[None] | None]
"""What the owner does with `FRAME`, `GONE` and `CLOSE` items (`infra.relay.cluster`)."""


class Forwarder:
    def __init__(self, nc: NATS, *, prefix: str, node: str) -> None:
        self.nc = nc
        self.prefix = prefix
        self.node = node
        self.sessions: dict[int, Session] = {}
        """This node's sockets forwarded to other owners, by connection id."""
        self._next_cid = 0
        self._outboxes: dict[str, list[list[Any]]] = {}
        self._flushing = False
        self._owner_side: OwnerSide | None = None
        self._subscription: Any = None
        self.published = 0

    def subject(self, node: str) -> str:
        return f"{self.prefix}.relay.node.{node}"

    async def start(self, owner_side: OwnerSide) -> None:
        self._owner_side = owner_side
        self._subscription = await self.nc.subscribe(self.subject(self.node), cb=self._received)
        await self.nc.flush()

    async def stop(self) -> None:
        self.flush()
        if self._subscription is not None:
            await self._subscription.unsubscribe()

    # -- sending ----------------------------------------------------------------------------------

    def register(self, session: Session) -> int:
        """A local socket that forwards to an owner: its connection id."""
        self._next_cid += 1
        self.sessions[self._next_cid] = session
        return self._next_cid

    def forget(self, cid: int) -> None:
        self.sessions.pop(cid, None)

    def queue(self, node: str, item: list[Any]) -> None:
        outbox = self._outboxes.get(node)
        if outbox is None:
            outbox = self._outboxes[node] = []
        outbox.append(item)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flushing = False
        outboxes, self._outboxes = self._outboxes, {}
        loop = asyncio.get_running_loop()
        for node, items in outboxes.items():
            self.published += 1
            loop.create_task(self._publish(node, items))

    async def _publish(self, node: str, items: list[list[Any]]) -> None:
        try:
            await self.nc.publish(self.subject(node), _encode(items))
        except Exception as error:  # noqa: BLE001 - NATS away: those frames are lost
            log.warning("relay: %d frames to node %s lost: %r", len(items), node, error)

    # -- receiving --------------------------------------------------------------------------------

    async def _received(self, message: Msg) -> None:
        try:
            items = _decode(message.data)
        except msgspec.DecodeError:
            log.warning("relay: a message between nodes that does not decode")
            return
        for item in items:
            kind = item[0]
            if kind == OUT:
                session = self.sessions.get(item[1])
                if session is not None:
                    session.send(item[2])
            elif kind == END:
                session = self.sessions.get(item[1])
                if session is not None:
                    session.end(item[2], item[3])
            elif self._owner_side is not None:
                done = self._owner_side(item)
                if done is not None:
                    await done
