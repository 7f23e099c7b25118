"""One client's connection, as the protocol sees it: each binary frame is a `Payload`, routed by
its flag to the room it joined (or to the room manager, to join one; or, once its room is
found on another node, forwarded there as it came). Refusals are raised as
`RelayError`s; the socket (`api/relay/socket.py`) tells them to the client as `RESPONSE_ERROR`
frames, and nothing changes. Synchronous: a frame is dealt with as it arrives."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from google.protobuf.message import DecodeError, Message

from domain.relay.errors import BadRelayRequest, RelayError, RoomNotFound
from infra.relay.cluster import OWNER_GONE, Cluster
from infra.relay.forwarding import FRAME, GONE, RemoteMember
from infra.relay.proto.relay_v1_pb2 import (
    GrantHostRequest,
    JoinRoomRequest,
    KickRequest,
    Payload,
    RejoinRoomRequest,
)
from infra.relay.room import Room
from infra.relay.session import Session

RELAY = Payload.REQUEST_RELAY_MESSAGE
CONNECT = Payload.REQUEST_CONNECT
RECONNECT = Payload.REQUEST_RECONNECT
LIST = Payload.REQUEST_LIST
KICK = Payload.REQUEST_KICK
GRANT_HOST = Payload.REQUEST_GRANT_HOST


M = TypeVar("M", bound=Message)


def _parse(kind: type[M], data: bytes, what: str) -> M:
    try:
        return kind.FromString(data)
    except DecodeError as error:
        raise BadRelayRequest(f"invalid {what}, does not conform to spec: {error}") from None


class Connection:
    __slots__ = ("cid", "cluster", "owner", "room", "session")

    def __init__(self, session: Session | RemoteMember, cluster: Cluster) -> None:
        self.session = session
        self.cluster = cluster
        self.room: Room | None = None
        self.owner: str | None = None
        """The node that owns this client's room, when it is not this one."""
        self.cid = 0

    def on_frame(self, raw: bytes) -> Awaitable[None] | None:
        """Deals with one frame; an awaitable when finding its room takes a lookup (await it
        before the next frame). Raises `RelayError` for what it refuses."""
        if self.owner is not None:
            self._forward(raw)
            return None
        try:
            payload = Payload.FromString(raw)
        except DecodeError as error:
            raise BadRelayRequest(f"invalid message, does not conform to spec: {error}") from None
        flag = payload.Flag
        room = self.room
        if flag == RELAY:  # first: nearly every frame is one
            self._joined(room, "relay a message").relay(self.session, payload.Data)
        elif flag == CONNECT:
            join = _parse(JoinRoomRequest, payload.Data, "join request")
            return self._enter(raw, join.RoomID, join.RoomSecret, None, 0)
        elif flag == RECONNECT:
            rejoin = _parse(RejoinRoomRequest, payload.Data, "rejoin request")
            return self._enter(
                raw, rejoin.RoomID, rejoin.RoomSecret, rejoin.ClientID, rejoin.ClientSecret
            )
        elif flag == LIST:
            self._joined(room, "list a room's clients").list_clients(self.session)
        elif flag == KICK:
            kick = _parse(KickRequest, payload.Data, "kick request")
            self._joined(room, "kick a client").kick(self.session, kick.ClientID)
        elif flag == GRANT_HOST:
            grant = _parse(GrantHostRequest, payload.Data, "grant host request")
            self._joined(room, "grant host").grant_host(self.session, grant.HostID)
        else:
            raise BadRelayRequest(f"unknown or unexpected flag {flag}")
        return None

    def _joined(self, room: Room | None, what: str) -> Room:
        if room is None:
            raise BadRelayRequest(f"must be connected to a room to {what}")
        return room

    def _enter(
        self, raw: bytes, number: int, secret: int, client_id: int | None, client_secret: int
    ) -> Awaitable[None] | None:
        if self.room is not None:
            raise BadRelayRequest(
                "cannot connect to a different room while already connected to another"
            )
        self.cluster.limiter.check(self.session.address, number)
        room = self.cluster.manager.rooms.get(number)
        if room is not None or isinstance(self.session, RemoteMember):
            self._enter_room(room, number, secret, client_id, client_secret)
            return None
        return self._enter_anywhere(raw, number, secret, client_id, client_secret)

    async def _enter_anywhere(
        self, raw: bytes, number: int, secret: int, client_id: int | None, client_secret: int
    ) -> None:
        try:
            where = await self.cluster.locate(number)
        except RoomNotFound:
            self.cluster.limiter.failed(self.session.address, number)
            raise
        if isinstance(where, Room):
            self._enter_room(where, number, secret, client_id, client_secret)
            return
        session = self.session
        assert isinstance(session, Session)
        self.owner = where
        self.cid = self.cluster.forwarder.register(session)
        self.cluster.forwarding(self.cid, where, lambda: session.end(OWNER_GONE, "owner_gone"))
        self._forward(raw)

    def _forward(self, raw: bytes) -> None:
        assert self.owner is not None
        item: list[Any] = [FRAME, self.cluster.node, self.cid, self.session.address, raw]
        self.cluster.forwarder.queue(self.owner, item)

    def _enter_room(
        self,
        room: Room | None,
        number: int,
        secret: int,
        client_id: int | None,
        client_secret: int,
    ) -> None:
        address = self.session.address
        limiter = self.cluster.limiter
        if room is None or not room.matches(secret):
            limiter.failed(address, number)
            raise RoomNotFound(f"no valid room match found for ID {number}")
        try:
            if client_id is None:
                room.join(self.session)
            else:
                room.rejoin(self.session, client_id, client_secret)
        except RelayError as error:
            if error.code in ("relay_wrong_client_secret", "relay_bad_request"):
                limiter.failed(address, number)
            raise
        self.room = room
        self.session.room = room

    def closed(self) -> None:
        """The socket ended: the room learns the client left."""
        if self.owner is not None:
            forwarder = self.cluster.forwarder
            forwarder.queue(self.owner, [GONE, self.cluster.node, self.cid])
            forwarder.forget(self.cid)
            self.cluster.unforward(self.cid)
            self.owner = None
            return
        room = self.room
        if room is not None:
            self.room = None
            room.leave(self.session)
