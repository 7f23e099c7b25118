"""The one interface of a room protocol: policy hooks, pure. A room asks its protocol who may
send what to whom, who becomes host and what happens when the host leaves; the live room
(`infra/relay/room.py`) does what the answers say. A new protocol is a new module in this
package and one line in its registry (`domain/relay/protocols/__init__.py`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import IntEnum
from typing import ClassVar, Protocol

from domain.relay.errors import BadRelayRequest


class RelayType(IntEnum):
    """`Relay.Type` on the wire."""

    BROADCAST = 0
    TARGET = 1
    HOST = 2


class RoomState(Protocol):
    """What a protocol may look at: the connected clients, longest-connected first, and the
    host's id (None: no host)."""

    @property
    def host(self) -> int | None: ...

    @property
    def members(self) -> Sequence[int]: ...


EVERYONE_ELSE = None
"""`route`'s answer for "every connected client but the sender"."""


class RoomProtocol(ABC):
    name: ClassVar[str]

    @abstractmethod
    def route(self, room: RoomState, sender: int, kind: int, target: int | None) -> int | None:
        """Who gets a relayed message: `EVERYONE_ELSE`, or the one client id. Raises
        `NotAllowed` or `BadRelayRequest` for a message the sender may not send."""

    @abstractmethod
    def becomes_host(self, room: RoomState, joiner: int) -> bool:
        """Whether a client that just joined (already in `room.members`) becomes host."""

    @abstractmethod
    def check_kick(self, room: RoomState, actor: int, client: int) -> None:
        """Raises unless `actor` may kick `client` out (and ban it from the room)."""

    @abstractmethod
    def check_grant_host(self, room: RoomState, actor: int, client: int) -> None:
        """Raises unless `actor` may hand the host's powers to `client`."""

    @abstractmethod
    def host_after_leave(self, room: RoomState, leaver: int) -> int | None:
        """The new host once the host `leaver` left (`room.members` no longer holds it)."""

    @abstractmethod
    def told_of_membership(self, room: RoomState, client: int) -> Sequence[int]:
        """Who hears that `client` connected or disconnected."""


def member_or_refuse(room: RoomState, client: int, what: str) -> None:
    if client not in room.members:
        raise BadRelayRequest(f"no connected client with ID {client} to {what}")
