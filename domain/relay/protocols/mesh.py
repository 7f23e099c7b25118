"""The mesh protocol: every client may broadcast to all the others and target any one of them;
nobody is host, so nobody may kick or grant host, and a message to the host is refused. Every
client hears of every other's connect and disconnect."""

from __future__ import annotations

from collections.abc import Sequence

from domain.relay.errors import BadRelayRequest, NotAllowed
from domain.relay.protocols.base import (
    EVERYONE_ELSE,
    RelayType,
    RoomProtocol,
    RoomState,
    member_or_refuse,
)


class Mesh(RoomProtocol):
    name = "mesh"

    def route(self, room: RoomState, sender: int, kind: int, target: int | None) -> int | None:
        match kind:
            case RelayType.BROADCAST:
                return EVERYONE_ELSE
            case RelayType.TARGET:
                if target is None:
                    raise BadRelayRequest("must provide a target ID to send a message to")
                if target == sender:
                    raise BadRelayRequest("cannot send a targeted message to yourself")
                member_or_refuse(room, target, "send a message to")
                return target
            case RelayType.HOST:
                raise BadRelayRequest("a mesh room has no host: broadcast or target a client")
        raise BadRelayRequest(f"unknown relay type {kind}")

    def becomes_host(self, room: RoomState, joiner: int) -> bool:
        return False

    def check_kick(self, room: RoomState, actor: int, client: int) -> None:
        raise NotAllowed("nobody may kick in a mesh room")

    def check_grant_host(self, room: RoomState, actor: int, client: int) -> None:
        raise NotAllowed("a mesh room has no host")

    def host_after_leave(self, room: RoomState, leaver: int) -> int | None:
        return None

    def told_of_membership(self, room: RoomState, client: int) -> Sequence[int]:
        return tuple(member for member in room.members if member != client)
