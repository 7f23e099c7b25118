"""A live room: the clients connected to it now, its host, who left (and may come back) and who
was kicked (and may not). Its protocol decides; the room does what the answers say and writes
the frames. Everything here is synchronous and in memory: a relayed message costs a decode of
its `Relay` header, one policy call and one transport write per recipient.

What happens to the room (joins, leaves, kicks, hosts, closing; relayed messages when it
records) goes to its `Journal`, which appends it to the event store in batches.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from google.protobuf.message import DecodeError

from domain.relay.errors import (
    BadRelayRequest,
    Banned,
    RoomClosed,
    RoomFull,
    WrongClientSecret,
)
from domain.relay.protocols import EVERYONE_ELSE, RoomProtocol
from infra.relay import frames
from infra.relay.proto.relay_v1_pb2 import Relay

RUNNING, CLOSING = "RUNNING", "CLOSING"
ROOM_CLOSED = 4410


class Member(Protocol):
    """A connected client, local (`infra.relay.session.Session`) or on another node."""

    client_id: int
    secret: int

    def send(self, wire: bytes) -> None: ...

    def end(self, code: int = 1000, reason: str = "") -> None: ...


class Journal(Protocol):
    """Where a room's life is recorded (`infra.relay.journal.RoomJournal`)."""

    def joined(self, room: UUID, client_id: int, rejoined: bool) -> None: ...

    def left(self, room: UUID, client_id: int) -> None: ...

    def kicked(self, room: UUID, client_id: int, by: int) -> None: ...

    def host_changed(self, room: UUID, client_id: int | None, granted_by: int | None) -> None: ...

    def relayed(self, room: UUID, sender: int, kind: int, target: int, data: bytes) -> None: ...

    def closed(self, room: UUID, reason: str) -> None: ...


def same_secret(given: int, actual: int) -> bool:
    """Constant-time: how much of a secret matched must not show in the time taken."""
    return hmac.compare_digest(
        given.to_bytes(8, "big", signed=True), actual.to_bytes(8, "big", signed=True)
    )


class Room:
    def __init__(
        self,
        *,
        uuid: UUID,
        number: int,
        secret: int,
        max_clients: int,
        protocol: RoomProtocol,
        record: bool,
        journal: Journal,
        new_secret: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
        changed: Callable[[Room], None] = lambda room: None,
    ) -> None:
        self.uuid = uuid
        self.number = number
        self.secret = secret
        self.max_clients = max_clients
        self.protocol = protocol
        self.record = record
        self.status = RUNNING
        self.host: int | None = None
        self._members: dict[int, Member] = {}
        """Connected clients by id, longest-connected first (a reconnect goes to the end)."""
        self._left: dict[int, int] = {}
        """Clients that left, by id, with their secrets: they may reconnect."""
        self._banned: set[int] = set()
        self._next_id = 0
        self._journal = journal
        self._new_secret = new_secret
        self._clock = clock
        self._changed = changed
        """Told after every change of who is in the room (the directory publishes it)."""
        self.empty_since: float | None = clock()

    # -- what the protocol sees ---------------------------------------------------------------------

    @property
    def members(self) -> list[int]:
        return list(self._members)

    @property
    def current_clients(self) -> int:
        return len(self._members)

    def matches(self, secret: int) -> bool:
        return same_secret(secret, self.secret)

    def member(self, client_id: int) -> Member | None:
        return self._members.get(client_id)

    # -- joining and leaving ----------------------------------------------------------------------

    def join(self, member: Member) -> None:
        """A new client: it gets the next id and a fresh secret (`RESPONSE_CONNECT`)."""
        self._check_open_and_room()
        member.client_id = self._next_id
        member.secret = self._new_secret()
        self._next_id += 1
        self._admit(member, rejoined=False)

    def rejoin(self, member: Member, client_id: int, secret: int) -> None:
        """A client back with its id and secret; one still connected under that id (a socket
        not noticed dead yet, or the same client on a new connection) is replaced."""
        if self.status != RUNNING:
            raise RoomClosed(f"room {self.number} is closing")
        if client_id in self._banned:
            raise Banned(f"client {client_id} was kicked from this room")
        current = self._members.get(client_id)
        if current is not None:
            if not same_secret(secret, current.secret):
                raise WrongClientSecret(f"invalid secret for client with ID {client_id}")
            self._remove(current, announce=False)
            current.end(1000, "replaced")
        else:
            known = self._left.get(client_id)
            if known is None:
                raise BadRelayRequest(f"no client with ID {client_id} left this room")
            if not same_secret(secret, known):
                raise WrongClientSecret(f"invalid secret for client with ID {client_id}")
            self._check_open_and_room()
            del self._left[client_id]
        member.client_id = client_id
        member.secret = secret
        self._admit(member, rejoined=True)

    def _check_open_and_room(self) -> None:
        if self.status != RUNNING:
            raise RoomClosed(f"room {self.number} is closing")
        if len(self._members) >= self.max_clients:
            raise RoomFull(f"room with ID {self.number} is full")

    def _admit(self, member: Member, *, rejoined: bool) -> None:
        client_id = member.client_id
        self._members[client_id] = member
        self.empty_since = None
        self._journal.joined(self.uuid, client_id, rejoined)
        member.send(frames.connected(client_id, member.secret))
        if self.protocol.becomes_host(self, client_id):
            self.host = client_id
            self._journal.host_changed(self.uuid, client_id, None)
            member.send(frames.assign_host(client_id))
        told = frames.client_connected(client_id, client_id == self.host)
        for other in self.protocol.told_of_membership(self, client_id):
            self._send_to(other, told)
        self._changed(self)

    def leave(self, member: Member) -> None:
        """The client's connection ended: it may come back with its id and secret."""
        if self._members.get(member.client_id) is not member:
            return  # replaced, kicked or never admitted
        self._left[member.client_id] = member.secret
        self._remove(member, announce=True)
        self._journal.left(self.uuid, member.client_id)
        self._changed(self)

    def _remove(self, member: Member, *, announce: bool) -> None:
        client_id = member.client_id
        del self._members[client_id]
        if not self._members:
            self.empty_since = self._clock()
        if announce and self.status == RUNNING:
            told = frames.client_disconnected(client_id)
            for other in self.protocol.told_of_membership(self, client_id):
                self._send_to(other, told)
        if client_id == self.host:
            self.host = None
            if self.status == RUNNING:
                new_host = self.protocol.host_after_leave(self, client_id)
                self._journal.host_changed(self.uuid, new_host, None)
                if new_host is not None:
                    self._change_host(new_host)

    # -- the host's powers ------------------------------------------------------------------------

    def kick(self, actor: Member, client_id: int) -> None:
        self.protocol.check_kick(self, actor.client_id, client_id)
        kicked = self._members[client_id]
        self._banned.add(client_id)
        self._remove(kicked, announce=False)
        self._journal.kicked(self.uuid, client_id, actor.client_id)
        kicked.send(frames.kicked(client_id))
        kicked.end(1000, "kicked")
        actor.send(frames.kicked(client_id))
        self._changed(self)

    def grant_host(self, actor: Member, client_id: int) -> None:
        self.protocol.check_grant_host(self, actor.client_id, client_id)
        self._journal.host_changed(self.uuid, client_id, actor.client_id)
        self._change_host(client_id)

    def _change_host(self, new_host: int) -> None:
        """BEGIN_HOST_MIGRATE to all, ASSIGN_HOST to the new host, FINISH_HOST_MIGRATE {HostID}
        to all."""
        everyone = list(self._members.values())
        for member in everyone:
            member.send(frames.BEGIN_HOST_MIGRATE)
        self.host = new_host
        self._members[new_host].send(frames.assign_host(new_host))
        finish = frames.finish_host_migrate(new_host)
        for member in everyone:
            member.send(finish)

    # -- messages ---------------------------------------------------------------------------------

    def list_clients(self, member: Member) -> None:
        host = self.host
        member.send(frames.client_list([(c, c == host) for c in self._members]))

    def relay(self, sender: Member, data: bytes) -> None:
        """Relay a `Relay` message (`data`, as sent) where the protocol says."""
        try:
            message = Relay.FromString(data)
        except DecodeError as error:
            raise BadRelayRequest(f"relayed message does not conform to spec: {error}") from None
        target = message.Target if message.HasField("Target") else None
        to = self.protocol.route(self, sender.client_id, message.Type, target)
        wire = frames.relayed(data)
        if to is EVERYONE_ELSE:
            for member in self._members.values():
                if member is not sender:
                    member.send(wire)
        else:
            self._members[to].send(wire)
        if self.record:
            self._journal.relayed(
                self.uuid, sender.client_id, message.Type, -1 if target is None else target, data
            )

    def _send_to(self, client_id: int, wire: bytes) -> None:
        member = self._members.get(client_id)
        if member is not None:
            member.send(wire)

    # -- closing ----------------------------------------------------------------------------------

    def close(self, reason: str) -> None:
        """Disconnect everyone; nobody joins any more."""
        if self.status == CLOSING:
            return
        self.status = CLOSING
        self._journal.closed(self.uuid, reason)
        goodbye = frames.error(410, f"room {self.number} was closed")
        for member in list(self._members.values()):
            member.send(goodbye)
            member.end(ROOM_CLOSED, "room_closed")
        self._members.clear()
        self.host = None
        self._changed(self)

    # -- moving between nodes ---------------------------------------------------------------------

    def clients(self) -> dict[int, int]:
        """Every client that may come back or is here, with its secret (for the directory)."""
        return {**self._left, **{c: m.secret for c, m in self._members.items()}}

    @property
    def banned(self) -> list[int]:
        return sorted(self._banned)

    @property
    def next_id(self) -> int:
        return self._next_id

    def restore(self, clients: dict[int, int], banned: list[int], next_id: int) -> None:
        """A room taken over from a node that died: its clients may all reconnect with their
        ids and secrets; the first to come back becomes host."""
        self._left = dict(clients)
        self._banned = set(banned)
        self._next_id = next_id

    def evacuate(self) -> None:
        """This node stops: everyone is disconnected (1012, "service restart") and may reconnect
        with its id and secret to the node that takes the room over."""
        self.status = CLOSING
        for member in list(self._members.values()):
            member.end(1012, "node_stopping")
        self._members.clear()

    def info(self) -> dict[str, object]:
        """The v1 API's room info."""
        return {
            "id": self.number,
            "secret": self.secret,
            "max_clients": self.max_clients,
            "current_clients": len(self._members),
            "room_status": self.status,
        }
