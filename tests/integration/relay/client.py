"""A relay v1 client as a game would be: protobuf `Payload`s over a WebSocket (the generated
code of `infra/relay/proto/relay_v1.proto`), and the v1 JSON API over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from infra.relay.proto.relay_v1_pb2 import (
    Client,
    ClientList,
    Error,
    FinishHostMigrationResponse,
    GrantHostRequest,
    JoinRoomRequest,
    KickRequest,
    KickResponse,
    Payload,
    RejoinRoomRequest,
    Relay,
    SanitisedClient,
)

F = Payload
RECEIVE_TIMEOUT_S = 10.0


class RelayClient:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.id = -1
        self.secret = 0

    @classmethod
    async def open(cls, port: int, **options: Any) -> RelayClient:
        socket = await websockets.connect(
            f"ws://127.0.0.1:{port}/v1/websocket", max_size=None, **options
        )
        return cls(socket)

    async def close(self) -> None:
        await self.socket.close()

    # -- sending ----------------------------------------------------------------------------------

    async def send(self, flag: int, data: bytes = b"") -> None:
        await self.socket.send(Payload(Flag=flag, Data=data).SerializeToString())  # type: ignore[arg-type]

    async def connect(self, room: int, secret: int) -> Client:
        await self.send(
            F.REQUEST_CONNECT, JoinRoomRequest(RoomID=room, RoomSecret=secret).SerializeToString()
        )
        client = Client.FromString(await self.expect(F.RESPONSE_CONNECT))
        self.id, self.secret = client.ID, client.Secret
        return client

    async def reconnect(self, room: int, secret: int, client_id: int, client_secret: int) -> Client:
        request = RejoinRoomRequest(
            RoomID=room, RoomSecret=secret, ClientID=client_id, ClientSecret=client_secret
        )
        await self.send(F.REQUEST_RECONNECT, request.SerializeToString())
        client = Client.FromString(await self.expect(F.RESPONSE_CONNECT))
        self.id, self.secret = client.ID, client.Secret
        return client

    async def relay(self, kind: int, data: bytes, target: int | None = None) -> None:
        message = Relay(Type=kind, Data=data)  # type: ignore[arg-type]
        if target is not None:
            message.Target = target
        await self.send(F.REQUEST_RELAY_MESSAGE, message.SerializeToString())

    async def broadcast(self, data: bytes) -> None:
        await self.relay(Relay.BROADCAST, data)

    async def target(self, client_id: int, data: bytes) -> None:
        await self.relay(Relay.TARGET, data, client_id)

    async def to_host(self, data: bytes) -> None:
        await self.relay(Relay.HOST, data)

    async def list(self) -> list[tuple[int, bool]]:
        await self.send(F.REQUEST_LIST)
        found = ClientList.FromString(await self.expect(F.RESPONSE_LIST))
        return [(c.ID, c.Host) for c in found.List]

    async def kick(self, client_id: int) -> None:
        await self.send(F.REQUEST_KICK, KickRequest(ClientID=client_id).SerializeToString())

    async def grant_host(self, client_id: int) -> None:
        await self.send(
            F.REQUEST_GRANT_HOST, GrantHostRequest(HostID=client_id).SerializeToString()
        )

    # -- receiving --------------------------------------------------------------------------------

    async def receive(self, timeout: float = RECEIVE_TIMEOUT_S) -> Payload:
        raw = await asyncio.wait_for(self.socket.recv(), timeout)
        assert isinstance(raw, bytes), "the relay sends binary frames only"
        return Payload.FromString(raw)

    async def expect(self, flag: int) -> bytes:
        payload = await self.receive()
        if payload.Flag != flag:
            told = Error.FromString(payload.Data) if payload.Flag == F.RESPONSE_ERROR else None
            raise AssertionError(f"expected flag {flag}, got {payload.Flag} {told}")
        return payload.Data

    async def relayed(self) -> Relay:
        return Relay.FromString(await self.expect(F.RESPONSE_RELAY_MESSAGE))

    async def error(self) -> Error:
        return Error.FromString(await self.expect(F.RESPONSE_ERROR))

    async def client_event(self, flag: int) -> SanitisedClient:
        return SanitisedClient.FromString(await self.expect(flag))

    async def kicked(self) -> int:
        return KickResponse.FromString(await self.expect(F.RESPONSE_KICK)).ClientID

    async def finish_migration(self) -> int:
        data = await self.expect(F.RESPONSE_FINISH_HOST_MIGRATE)
        return FinishHostMigrationResponse.FromString(data).HostID

    async def closed(self, timeout: float = RECEIVE_TIMEOUT_S) -> int | None:
        """Reads until the server closes the socket; its close code."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.socket.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


async def create_room(
    http: httpx.AsyncClient, max_clients: int = 8, **extra: Any
) -> dict[str, Any]:
    response = await http.post("/v1/api/rooms", json={"max_clients": max_clients, **extra})
    assert response.status_code == 200, response.text
    room: dict[str, Any] = response.json()["data"]
    return room


async def joined(port: int, room: dict[str, Any]) -> RelayClient:
    client = await RelayClient.open(port)
    await client.connect(room["id"], room["secret"])
    return client
