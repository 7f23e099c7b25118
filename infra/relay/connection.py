"""One client's connection, as the protocol sees it: each binary frame is a `Payload`, routed by
its flag to the room it joined (or to the room manager, to join one). Refusals are raised as
`RelayError`s; the socket (`api/relay/socket.py`) tells them to the client as `RESPONSE_ERROR`
frames, and nothing changes. Synchronous: a frame is dealt with as it arrives."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from domain.relay.errors import BadRelayRequest, RelayError, RoomNotFound
from infra.relay.limits import AttemptLimiter
from infra.relay.manager import RoomManager
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
    __slots__ = ("limiter", "manager", "room", "session")

    def __init__(self, session: Session, manager: RoomManager, limiter: AttemptLimiter) -> None:
        self.session = session
        self.manager = manager
        self.limiter = limiter
        self.room: Room | None = None

    def on_frame(self, raw: bytes) -> None:
        try:
            payload = Payload.FromString(raw)
        except DecodeError as error:
            raise BadRelayRequest(f"invalid message, does not conform to spec: {error}") from None
        flag = payload.Flag
        room = self.room
        if flag == RELAY:  # first: nearly every frame is one
            self._joined(room, "relay a message").relay(self.session, payload.Data)
        elif flag == CONNECT:
            request = _parse(JoinRoomRequest, payload.Data, "join request")
            self._enter(request.RoomID, request.RoomSecret, None, 0)
        elif flag == RECONNECT:
            request = _parse(RejoinRoomRequest, payload.Data, "rejoin request")
            self._enter(request.RoomID, request.RoomSecret, request.ClientID, request.ClientSecret)
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

    def _joined(self, room: Room | None, what: str) -> Room:
        if room is None:
            raise BadRelayRequest(f"must be connected to a room to {what}")
        return room

    def _enter(self, number: int, secret: int, client_id: int | None, client_secret: int) -> None:
        if self.room is not None:
            raise BadRelayRequest(
                "cannot connect to a different room while already connected to another"
            )
        address = self.session.address
        self.limiter.check(address, number)
        try:
            room = self.manager.find(number, secret)
            if client_id is None:
                room.join(self.session)
            else:
                room.rejoin(self.session, client_id, client_secret)
        except RoomNotFound:
            self.limiter.failed(address, number)
            raise
        except RelayError as error:
            if error.code in ("relay_wrong_client_secret", "relay_bad_request"):
                self.limiter.failed(address, number)
            raise
        self.room = room
        self.session.room = room

    def closed(self) -> None:
        """The socket ended: the room learns the client left."""
        room = self.room
        if room is not None:
            self.room = None
            room.leave(self.session)
