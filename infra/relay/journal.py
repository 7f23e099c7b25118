"""The live rooms' journal: each fact about a room goes to the rooms' shared writer (one per
node, batched saves), without anyone waiting for it. Relayed messages of a recording room are
gathered for `record_linger_ms` and recorded as one event per room per batch."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

from commands.relay.rooms import RelayRooms
from commands.relay.wire import (
    RecordClose,
    RecordHost,
    RecordJoin,
    RecordKick,
    RecordLeave,
    RecordMessages,
)
from domain.relay.room import RecordedMessage


class RoomJournal:
    def __init__(self, rooms: RelayRooms, *, node: str, record_linger_s: float) -> None:
        self.rooms = rooms
        self.node = node
        self._linger_s = record_linger_s
        self._messages: dict[UUID, list[RecordedMessage]] = {}
        self._started: dict[UUID, float] = {}
        self._flush: asyncio.TimerHandle | None = None
        self.recorded = 0

    def created(self, room: UUID, started: float) -> None:
        self._started[room] = started

    def joined(self, room: UUID, client_id: int, rejoined: bool) -> None:
        self.rooms.record(room, RecordJoin(client_id, rejoined, self.node))

    def left(self, room: UUID, client_id: int) -> None:
        self.rooms.record(room, RecordLeave(client_id))

    def kicked(self, room: UUID, client_id: int, by: int) -> None:
        self.rooms.record(room, RecordKick(client_id, by))

    def host_changed(self, room: UUID, client_id: int | None, granted_by: int | None) -> None:
        self.rooms.record(room, RecordHost(client_id, granted_by))

    def relayed(self, room: UUID, sender: int, kind: int, target: int, data: bytes) -> None:
        started = self._started.get(room, 0.0)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        batch = self._messages.get(room)
        if batch is None:
            batch = self._messages[room] = []
        batch.append((elapsed_ms, sender, kind, target, data))
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(self._linger_s, self.flush)

    def flush(self) -> None:
        self._flush = None
        messages, self._messages = self._messages, {}
        for room, batch in messages.items():
            self.recorded += len(batch)
            self.rooms.record(room, RecordMessages(batch))

    def closed(self, room: UUID, reason: str) -> None:
        batch = self._messages.pop(room, None)
        if batch:
            self.recorded += len(batch)
            self.rooms.record(room, RecordMessages(batch))
        self._started.pop(room, None)
        self.rooms.record(room, RecordClose(reason))
