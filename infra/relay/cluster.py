"""The relay across nodes: which node owns a room (the directory), taking a dead owner's rooms
over, forwarding frames to owners (the forwarder), and the summary and room list of every node.

A room belongs to the node that created it. A client may reach any node: its first frame names
the room; if another node owns it and is alive, the socket's frames go there from then on. If
the owner is dead (missing from the nodes bucket), the node claims the room and adopts it as it
was: its clients reconnect with their ids and secrets and resume, the first one back is host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from domain.relay.errors import RelayError, RoomNotFound
from infra.relay.directory import RoomDirectory, RoomEntry
from infra.relay.forwarding import CLOSE, FRAME, GONE, Forwarder, RemoteMember
from infra.relay.limits import AttemptLimiter
from infra.relay.manager import RoomManager
from infra.relay.room import Journal, Room

log = logging.getLogger(__name__)

PUBLISH_AFTER_S = 0.005
"""Changes of who is in a room are published this soon (gathered meanwhile): a client that
joined is known to the other nodes, and may resume there, within milliseconds."""
WATCH_EVERY_S = 1.0
OWNER_GONE = 1012
"""Close code for a client whose room's owner died: reconnect (with id and secret) to resume."""

ErrorFrame = Callable[[Exception], bytes]


class Cluster:
    def __init__(
        self,
        manager: RoomManager,
        limiter: AttemptLimiter,
        journal: Journal,
        directory: RoomDirectory,
        forwarder: Forwarder,
        error_frame: ErrorFrame,
    ) -> None:
        self.manager = manager
        self.limiter = limiter
        self.journal = journal
        self.directory = directory
        self.forwarder = forwarder
        self.node = directory.node
        self._error_frame = error_frame
        self._remote: dict[tuple[str, int], Any] = {}
        """Connections of other nodes' sockets to rooms owned here (`infra.relay.connection`)."""
        self._forwarded: dict[int, tuple[str, Callable[[], None]]] = {}
        self._dirty: set[int] = set()
        self._publishing: asyncio.TimerHandle | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.new_connection: Callable[[Any], Any] | None = None

    async def start(self, new_connection: Callable[[Any], Any]) -> None:
        self.new_connection = new_connection
        await self.directory.start()
        await self.forwarder.start(self._owner_side)
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.wait([self._watcher], timeout=2.0)
        self._publish_now()
        await self.forwarder.stop()
        await self.directory.stop()

    # -- the directory ----------------------------------------------------------------------------

    def entry_of(self, room: Room) -> RoomEntry:
        return RoomEntry(
            number=room.number, uuid=str(room.uuid), owner=self.node, secret=room.secret,
            max_clients=room.max_clients, protocol=room.protocol.name, record=room.record,
            status=room.status, current_clients=room.current_clients, clients=room.clients(),
            banned=room.banned, next_id=room.next_id,
        )  # fmt: skip

    def changed(self, room: Room) -> None:
        """A room's membership changed: its entry is published within `PUBLISH_AFTER_S`."""
        self._dirty.add(room.number)
        if self._publishing is None:
            loop = asyncio.get_running_loop()
            self._publishing = loop.call_later(PUBLISH_AFTER_S, self._publish_now)

    def _publish_now(self) -> None:
        self._publishing = None
        dirty, self._dirty = self._dirty, set()
        loop = asyncio.get_running_loop()
        for number in dirty:
            room = self.manager.rooms.get(number)
            if room is not None:
                loop.create_task(self._put(self.entry_of(room)))
            else:  # closed (deleted, or idle)
                loop.create_task(self.directory.remove(number))

    async def _put(self, entry: RoomEntry) -> None:
        try:
            await self.directory.put(entry)
        except Exception as error:  # noqa: BLE001 - NATS away: the next change publishes it
            log.warning("relay room %d: directory not updated: %r", entry.number, error)

    async def create(self, max_clients: int, protocol: str | None, record: bool) -> Room:
        elsewhere = sum(
            self.manager.committed(e.max_clients)
            for n, e in self.directory.entries.items()
            if n not in self.manager.rooms
        )
        while True:
            room = await self.manager.create(
                max_clients, protocol, record, committed_elsewhere=elsewhere
            )
            if await self.directory.create(self.entry_of(room)):
                return room
            self.manager.rooms.pop(room.number, None)  # another node's number: draw again

    def summary(self) -> dict[str, int]:
        """Of every node's rooms: this node's as they are, the others' as last published."""
        counts = [self._counts(number) for number in {*self.manager.rooms, *self.directory.entries}]
        return {
            "number_of_rooms": len(counts),
            "max_clients": self.manager.settings.max_clients,
            "current_clients": sum(current for current, _ in counts),
            "committed_clients": sum(self.manager.committed(most) for _, most in counts),
        }

    def _counts(self, number: int) -> tuple[int, int]:
        room = self.manager.rooms.get(number)
        if room is not None:
            return room.current_clients, room.max_clients
        entry = self.directory.entries[number]
        return entry.current_clients, entry.max_clients

    def infos(self) -> list[dict[str, object]]:
        numbers = {*self.manager.rooms, *self.directory.entries}
        return [self.info(number) for number in sorted(numbers)]

    def info(self, number: int) -> dict[str, object]:
        room = self.manager.rooms.get(number)
        if room is not None:
            return room.info()
        entry = self.directory.entries.get(number)
        if entry is None:
            raise RoomNotFound(f"no room found with the ID {number}")
        return entry.info()

    async def close(self, number: int) -> None:
        if number in self.manager.rooms:
            self.manager.close(number)
            await self.directory.remove(number)
            return
        found = await self.directory.get(number)
        if found is None:
            raise RoomNotFound(f"no room found with the ID {number}")
        entry, _ = found
        if await self.directory.alive(entry.owner):
            self.forwarder.queue(entry.owner, [CLOSE, number])
        else:
            self.journal.closed(UUID(entry.uuid), "deleted")
            await self.directory.remove(number)

    # -- finding a room for a connect ---------------------------------------------------------------

    async def locate(self, number: int) -> Room | str:
        """The room, here (taken over if its owner died), or the live owner's node."""
        room = self.manager.rooms.get(number)
        if room is not None:
            return room
        known = self.directory.entries.get(number)  # the mirror, fresh within milliseconds
        if (
            known is not None
            and known.owner != self.node
            and await self.directory.alive(known.owner)
        ):
            return known.owner
        found = await self.directory.get(number)
        if found is None:
            raise RoomNotFound(f"no valid room match found for ID {number}")
        entry, revision = found
        if entry.owner != self.node and await self.directory.alive(entry.owner):
            return entry.owner
        if entry.status != "RUNNING" or not await self.directory.claim(entry, revision):
            return await self.locate(number) if entry.status == "RUNNING" else self._gone(number)
        log.info("relay room %d: taken over from node %s", number, entry.owner)
        room = self.manager.adopt(
            uuid=UUID(entry.uuid), number=number, secret=entry.secret,
            max_clients=entry.max_clients, protocol=entry.protocol, record=entry.record,
            clients=entry.clients, banned=entry.banned, next_id=entry.next_id,
        )  # fmt: skip
        return room

    def _gone(self, number: int) -> Room:
        raise RoomNotFound(f"no valid room match found for ID {number}")

    def forwarding(self, cid: int, owner: str, end: Callable[[], None]) -> None:
        self._forwarded[cid] = (owner, end)

    def unforward(self, cid: int) -> None:
        self._forwarded.pop(cid, None)

    # -- the owner's side -----------------------------------------------------------------------

    def _owner_side(self, item: list[Any]) -> Awaitable[None] | None:
        kind = item[0]
        if kind == FRAME:
            _, edge, cid, address, raw = item
            connection = self._remote.get((edge, cid))
            if connection is None:
                assert self.new_connection is not None
                member = RemoteMember(self.forwarder, edge, cid, address)
                connection = self._remote[(edge, cid)] = self.new_connection(member)
            try:
                pending = connection.on_frame(raw)
            except RelayError as error:
                connection.session.send(self._error_frame(error))
                return None
            return None if pending is None else self._finish(connection, pending)
        if kind == GONE:
            connection = self._remote.pop((item[1], item[2]), None)
            if connection is not None:
                connection.closed()
        elif kind == CLOSE and item[1] in self.manager.rooms:
            return self.close(item[1])
        return None

    async def _finish(self, connection: Any, pending: Awaitable[None]) -> None:
        try:
            await pending
        except RelayError as error:
            connection.session.send(self._error_frame(error))

    async def _watch(self) -> None:
        """Every second: sockets forwarded to an owner that died are closed (their clients
        reconnect and resume here or elsewhere); other nodes' sockets in rooms owned here,
        whose node died, leave their rooms."""
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            try:
                nodes = {owner for owner, _ in self._forwarded.values()}
                nodes |= {edge for edge, _ in self._remote}
                dead = {node for node in nodes if not await self.directory.alive(node)}
                for cid, (owner, end) in list(self._forwarded.items()):
                    if owner in dead:
                        self._forwarded.pop(cid, None)
                        end()
                for key in [key for key in self._remote if key[0] in dead]:
                    self._remote.pop(key).closed()
            except Exception as error:  # noqa: BLE001 - NATS away: next time
                log.warning("relay: watching the other nodes failed: %r", error)
