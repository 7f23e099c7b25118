"""The room directory, shared by every node through NATS KV: which node owns which room, and
what another node needs to take a room over when its owner dies (its secret, size, protocol,
host, its clients' ids and secrets, who was kicked). Every node mirrors the bucket with one
watcher, so the summary and the room list answer from memory on any node.

Nodes say they are alive in a second bucket whose entries expire after `node_ttl_s`
(`TESSERA_RELAY_NODE_TTL_S`): an owner missing from it has died, and the first node asked
about one of its rooms claims it (compare-and-set on the room's entry). Both buckets are the
server's own: the secrets in them never leave it, and are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

log = logging.getLogger(__name__)

ROOMS_MAX_AGE_S = 24 * 3600.0


class RoomEntry(msgspec.Struct, kw_only=True):
    number: int
    uuid: str
    owner: str
    secret: int
    max_clients: int
    protocol: str
    record: bool
    status: str = "RUNNING"
    current_clients: int = 0
    clients: dict[int, int] = msgspec.field(default_factory=dict)
    """Every client that joined and was not kicked, connected or not: id -> secret."""
    banned: list[int] = msgspec.field(default_factory=list)
    next_id: int = 0

    def info(self) -> dict[str, object]:
        return {
            "id": self.number,
            "secret": self.secret,
            "max_clients": self.max_clients,
            "current_clients": self.current_clients,
            "room_status": self.status,
        }


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(RoomEntry).decode


async def _bucket(js: JetStreamContext, name: str, ttl: float) -> KeyValue:
    try:
        return await js.key_value(name)
    except Exception:  # noqa: BLE001 - BucketNotFoundError or an older server's variant
        return await js.create_key_value(bucket=name, history=1, ttl=ttl)


class RoomDirectory:
    def __init__(self, rooms: KeyValue, nodes: KeyValue, *, node: str, node_ttl_s: float) -> None:
        self._rooms = rooms
        self._nodes = nodes
        self.node = node
        self._ttl_s = node_ttl_s
        self.entries: dict[int, RoomEntry] = {}
        """The mirror: every room of every node."""
        self._revisions: dict[int, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._watcher: KeyValue.KeyWatcher | None = None
        self._alive_until: dict[str, float] = {}

    @classmethod
    async def open(
        cls, js: JetStreamContext, prefix: str, *, node: str, node_ttl_s: float
    ) -> RoomDirectory:
        rooms = await _bucket(js, f"{prefix.upper()}_RELAY_ROOMS", ROOMS_MAX_AGE_S)
        nodes = await _bucket(js, f"{prefix.upper()}_RELAY_NODES", node_ttl_s)
        return cls(rooms, nodes, node=node, node_ttl_s=node_ttl_s)

    async def start(self) -> None:
        await self._beat()
        self._watcher = await self._rooms.watchall()
        self._tasks = [
            asyncio.create_task(self._follow(self._watcher), name="relay-directory-watch"),
            asyncio.create_task(self._heartbeat(), name="relay-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # never held up by a NATS call that does not end at once
            await asyncio.wait(self._tasks, timeout=2.0)
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.stop()
        with contextlib.suppress(Exception):  # a clean stop: the others need not wait for it
            async with asyncio.timeout(2.0):
                await self._nodes.delete(self.node)

    async def _follow(self, watcher: KeyValue.KeyWatcher) -> None:
        async for entry in watcher:
            if entry is None:
                continue
            number = int(entry.key.removeprefix("room."))
            if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
                self.entries.pop(number, None)
                self._revisions.pop(number, None)
                continue
            try:
                self.entries[number] = _decode(entry.value)
            except msgspec.DecodeError:
                log.warning("relay room %d: an entry that does not decode", number)
                continue
            if entry.revision is not None:
                self._revisions[number] = entry.revision

    async def _beat(self) -> None:
        await self._nodes.put(self.node, b"1")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._ttl_s / 3)
            try:
                await self._beat()
            except Exception as error:  # noqa: BLE001 - NATS away: try again next beat
                log.warning("relay heartbeat failed: %r", error)

    # -- asking -----------------------------------------------------------------------------------

    async def alive(self, node: str) -> bool:
        """Whether `node` beat within its TTL; a yes is believed for a second (connects to
        a room of another node would otherwise each cost a round trip to NATS)."""
        if node == self.node:
            return True
        loop = asyncio.get_running_loop()
        if self._alive_until.get(node, 0.0) > loop.time():
            return True
        try:
            await self._nodes.get(node)
        except nats.js.errors.KeyNotFoundError:
            self._alive_until.pop(node, None)
            return False
        self._alive_until[node] = loop.time() + min(1.0, self._ttl_s / 3)
        return True

    async def get(self, number: int) -> tuple[RoomEntry, int] | None:
        """The room's entry as stored now (not the mirror), with its revision."""
        try:
            stored = await self._rooms.get(f"room.{number}")
        except nats.js.errors.KeyNotFoundError:
            return None
        if not stored.value or stored.revision is None:
            return None
        return _decode(stored.value), stored.revision

    # -- changing ---------------------------------------------------------------------------------

    async def create(self, entry: RoomEntry) -> bool:
        """False when another room has that number already."""
        try:
            revision = await self._rooms.create(f"room.{entry.number}", _encode(entry))
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        self.entries[entry.number] = entry
        self._revisions[entry.number] = revision
        return True

    async def claim(self, entry: RoomEntry, revision: int) -> bool:
        """Take a dead owner's room: False when another node was first."""
        entry.owner = self.node
        try:
            new = await self._rooms.update(f"room.{entry.number}", _encode(entry), last=revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        self.entries[entry.number] = entry
        self._revisions[entry.number] = new
        return True

    async def put(self, entry: RoomEntry) -> None:
        await self._rooms.put(f"room.{entry.number}", _encode(entry))

    async def remove(self, number: int) -> None:
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            await self._rooms.delete(f"room.{number}")
        self.entries.pop(number, None)
