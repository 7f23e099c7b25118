"""The relay context's Application: each room's life as a `RelayRoom`. A room is created here
(durable before its creator is answered); everything after goes through one shared writer per
node that appends a batch of every room's events in one transaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Transcoder

from commands import stored
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.relay.wire import (
    RecordClose,
    RecordHost,
    RecordJoin,
    RecordKick,
    RecordLeave,
    RecordMessages,
    RoomCommand,
)
from commands.shared_writer import SharedWriter
from domain.relay.errors import RelayError, RoomNotFound
from domain.relay.room import RelayRoom

log = logging.getLogger(__name__)

RoomWriter = SharedWriter[RelayRoom, RoomCommand]


def decide(room: RelayRoom, command: RoomCommand, now: datetime) -> None:
    match command:
        case RecordJoin(client_id, rejoined, node):
            room.join(client_id=client_id, rejoined=rejoined, node=node, now=now)
        case RecordLeave(client_id):
            room.leave(client_id=client_id, now=now)
        case RecordKick(client_id, by):
            room.kick(client_id=client_id, by=by, now=now)
        case RecordHost(client_id, None):
            room.migrate_host(client_id=client_id, now=now)
        case RecordHost(client_id, by) if client_id is not None and by is not None:
            room.grant_host(client_id=client_id, by=by, now=now)
        case RecordMessages(messages):
            room.record_messages(messages=messages, now=now)
        case RecordClose(reason):
            room.close(reason=reason, now=now)
        case _:
            raise TypeError(f"not a relay room command: {command!r}")


def _log_failure(room_id: UUID, command: RoomCommand, done: Future[Any]) -> None:
    """Nothing waits for a room's record: the live room has moved on. A refusal or a failure
    is logged; the record is what is lost."""
    error = done.exception()
    if error is not None:
        log.warning("relay room %s: %s not recorded: %r", room_id, type(command).__name__, error)


class RelayRooms(Application[UUID]):
    name = "relay_rooms"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        linger_s: float = 0.02,
        max_batch: int = 2000,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._writer: RoomWriter | None = None
        self._writer_lock = threading.Lock()

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    def create_room(
        self,
        *,
        room_id: UUID,
        number: int,
        max_clients: int,
        protocol: str,
        record: bool,
        node: str,
    ) -> RelayRoom:
        """Blocking: call from a thread."""
        room = RelayRoom.create(
            room_id=room_id,
            room_number=number,
            max_clients=max_clients,
            protocol=protocol,
            record=record,
            node=node,
            now=self.clock(),
        )
        self.save(room)
        return room

    def get_room(self, room_id: UUID) -> RelayRoom:
        return stored.get(self, room_id, RelayRoom, RoomNotFound(f"no relay room {room_id}"))

    @property
    def writer(self) -> RoomWriter:
        if self._writer is not None:
            return self._writer
        with self._writer_lock:
            if self._writer is None:
                writer = SharedWriter[RelayRoom, RoomCommand](
                    name="relay_rooms",
                    app=self,
                    load=self.get_room,
                    decide=decide,
                    clock=lambda: self.clock(),
                    linger_s=self._linger_s,
                    max_batch=self._max_batch,
                    domain_errors=(RelayError,),
                )
                writer.start()
                self._writer = writer
        return self._writer

    def record(self, room_id: UUID, command: RoomCommand) -> None:
        """Queue a fact about a room for the writer, from any thread; nothing waits for it."""
        future = self.writer.submit_threadsafe(room_id, command)
        future.add_done_callback(lambda done: _log_failure(room_id, command, done))

    def stop_writer(self) -> None:
        if self._writer is not None:
            self._writer.stop()

    def forget(self, room_id: UUID) -> None:
        if self._writer is not None:
            self._writer.evict(room_id)
