"""The standard protocol, a star: the host may broadcast (to everyone but itself), target one
client, kick and grant host; every other client may only send to the host. The first client is
host; when the host leaves, the longest-connected client becomes host. The host hears of every
connect and disconnect."""

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


class Standard(RoomProtocol):
    name = "standard"

    def route(self, room: RoomState, sender: int, kind: int, target: int | None) -> int | None:
        host = room.host
        match kind:
            case RelayType.BROADCAST:
                if sender != host:
                    raise NotAllowed("must be host to broadcast")
                return EVERYONE_ELSE
            case RelayType.TARGET:
                if sender != host:
                    raise NotAllowed("must be host to send targeted messages")
                if target is None:
                    raise BadRelayRequest("must provide a target ID to send a message to")
                if target == sender:
                    raise BadRelayRequest("cannot send a targeted message to yourself")
                member_or_refuse(room, target, "send a message to")
                return target
            case RelayType.HOST:
                if sender == host:
                    raise BadRelayRequest("hosts cannot send messages to themselves")
                if host is None:
                    raise BadRelayRequest("the room has no host")
                return host
        raise BadRelayRequest(f"unknown relay type {kind}")

    def becomes_host(self, room: RoomState, joiner: int) -> bool:
        return room.host is None

    def check_kick(self, room: RoomState, actor: int, client: int) -> None:
        if actor != room.host:
            raise NotAllowed("must be host to kick")
        if client == actor:
            raise BadRelayRequest("cannot kick yourself")
        member_or_refuse(room, client, "kick")

    def check_grant_host(self, room: RoomState, actor: int, client: int) -> None:
        if actor != room.host:
            raise NotAllowed("must be host to grant host to another client")
        if client == actor:
            raise BadRelayRequest("cannot transfer host powers to yourself")
        member_or_refuse(room, client, "grant host to")

    def host_after_leave(self, room: RoomState, leaver: int) -> int | None:
        members = room.members
        return members[0] if members else None

    def told_of_membership(self, room: RoomState, client: int) -> Sequence[int]:
        host = room.host
        return (host,) if host is not None else ()
