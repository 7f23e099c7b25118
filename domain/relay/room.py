"""A relay room's recorded life: created, clients joined and left, kicked, host granted or
migrated, closed; and, for a room created with `record`, the messages relayed in it. The live
room (who is connected now, who is host) is decided in memory by the node that owns the room;
this aggregate records what happened, in order, so a match can be replayed. Pure: ids and times
come in as arguments."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.relay.errors import RoomClosed

RecordedMessage = tuple[int, int, int, int, bytes]
"""(milliseconds since the room's creation, sender's client id, relay type, target or -1 for
none, the `Relay` message's bytes as sent)."""


class RelayRoom(Aggregate):
    class Created(Aggregate.Created):
        room_number: int
        max_clients: int
        protocol: str
        record: bool
        node: str
        at: datetime

    def __init__(
        self,
        room_number: int,
        max_clients: int,
        protocol: str,
        record: bool,
        node: str,
        at: datetime,
    ) -> None:
        self.room_number = room_number
        self.max_clients = max_clients
        self.protocol = protocol
        self.record = record
        self.node = node
        self.created_at = at
        self.connected: list[int] = []
        self.host: int | None = None
        self.kicked: set[int] = set()
        self.closed = False
        self.messages = 0

    @classmethod
    def create(
        cls,
        *,
        room_id: UUID,
        room_number: int,
        max_clients: int,
        protocol: str,
        record: bool,
        node: str,
        now: datetime,
    ) -> RelayRoom:
        return cls._create(
            cls.Created,
            id=room_id,
            room_number=room_number,
            max_clients=max_clients,
            protocol=protocol,
            record=record,
            node=node,
            at=now,
        )

    def _open(self) -> None:
        if self.closed:
            raise RoomClosed(f"room {self.room_number} is closed")

    # -- deciding ---------------------------------------------------------------------------------

    def join(self, *, client_id: int, rejoined: bool, node: str, now: datetime) -> None:
        self._open()
        self._joined(client_id=client_id, rejoined=rejoined, node=node, at=now)

    def leave(self, *, client_id: int, now: datetime) -> None:
        self._open()
        if client_id in self.connected:
            self._left(client_id=client_id, at=now)

    def kick(self, *, client_id: int, by: int, now: datetime) -> None:
        self._open()
        self._kicked(client_id=client_id, by=by, at=now)

    def grant_host(self, *, client_id: int, by: int, now: datetime) -> None:
        self._open()
        self._host_granted(client_id=client_id, by=by, at=now)

    def migrate_host(self, *, client_id: int | None, now: datetime) -> None:
        self._open()
        self._host_migrated(client_id=client_id, at=now)

    def record_messages(self, *, messages: list[RecordedMessage], now: datetime) -> None:
        self._open()
        if messages:
            self._messages_relayed(messages=messages, at=now)

    def close(self, *, reason: str, now: datetime) -> None:
        if not self.closed:
            self._closed(reason=reason, at=now)

    # -- applying ---------------------------------------------------------------------------------

    @event("ClientJoined")
    def _joined(self, client_id: int, rejoined: bool, node: str, at: datetime) -> None:
        if client_id not in self.connected:
            self.connected.append(client_id)

    @event("ClientLeft")
    def _left(self, client_id: int, at: datetime) -> None:
        if client_id in self.connected:
            self.connected.remove(client_id)
        if self.host == client_id:
            self.host = None

    @event("ClientKicked")
    def _kicked(self, client_id: int, by: int, at: datetime) -> None:
        if client_id in self.connected:
            self.connected.remove(client_id)
        self.kicked.add(client_id)

    @event("HostGranted")
    def _host_granted(self, client_id: int, by: int, at: datetime) -> None:
        self.host = client_id

    @event("HostMigrated")
    def _host_migrated(self, client_id: int | None, at: datetime) -> None:
        self.host = client_id

    @event("MessagesRelayed")
    def _messages_relayed(self, messages: list[RecordedMessage], at: datetime) -> None:
        self.messages += len(messages)

    @event("Closed")
    def _closed(self, reason: str, at: datetime) -> None:
        self.closed = True
        self.connected = []
        self.host = None
