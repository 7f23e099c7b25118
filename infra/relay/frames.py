"""The relay's outgoing frames, encoded once: each is a whole WebSocket binary frame holding one
protobuf `Payload` (`proto/relay_v1.proto`), ready to be written to any number of sockets.

A relayed message goes out as the `Payload {RESPONSE_RELAY_MESSAGE, Data}` whose `Data` is the
sender's `Relay` message as it came (as the original server relays it): its bytes are framed by
hand here, without building a message object per delivery.
"""

from __future__ import annotations

from infra.live.socket import binary_frame
from infra.relay.proto.relay_v1_pb2 import (
    Client,
    ClientList,
    Error,
    FinishHostMigrationResponse,
    KickResponse,
    Payload,
    SanitisedClient,
)

Flag = Payload.FlagType

_RELAYED_HEAD = bytes([0x08, Payload.RESPONSE_RELAY_MESSAGE, 0x12])
"""Field 1 (varint) = RESPONSE_RELAY_MESSAGE, then field 2 (length-delimited): its length and
the bytes follow."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def relayed(data: bytes) -> bytes:
    """The frame every recipient of a relayed `Relay` message (`data`, as sent) receives."""
    size = len(data)
    length = bytes((size,)) if size < 0x80 else _varint(size)
    return binary_frame(_RELAYED_HEAD + length + data)


def payload(flag: int, data: bytes = b"") -> bytes:
    return binary_frame(Payload(Flag=flag, Data=data).SerializeToString())  # type: ignore[arg-type]


def error(code: int, message: str) -> bytes:
    return payload(Flag.RESPONSE_ERROR, Error(Code=code, message=message).SerializeToString())


def connected(client_id: int, secret: int) -> bytes:
    return payload(Flag.RESPONSE_CONNECT, Client(ID=client_id, Secret=secret).SerializeToString())


def client_connected(client_id: int, host: bool) -> bytes:
    data = SanitisedClient(ID=client_id, Host=host).SerializeToString()
    return payload(Flag.RESPONSE_CLIENT_CONNECT, data)


def client_disconnected(client_id: int) -> bytes:
    data = SanitisedClient(ID=client_id, Host=False).SerializeToString()
    return payload(Flag.RESPONSE_CLIENT_DISCONNECT, data)


def client_list(members: list[tuple[int, bool]]) -> bytes:
    clients = [SanitisedClient(ID=client_id, Host=host) for client_id, host in members]
    return payload(Flag.RESPONSE_LIST, ClientList(List=clients).SerializeToString())


def kicked(client_id: int) -> bytes:
    return payload(Flag.RESPONSE_KICK, KickResponse(ClientID=client_id).SerializeToString())


def _host(host_id: int) -> bytes:
    return FinishHostMigrationResponse(HostID=host_id).SerializeToString()


def assign_host(host_id: int) -> bytes:
    """To the new host; it carries `FinishHostMigrationResponse {HostID}` as the original
    server's does after a migration (a client that ignores `Data` loses nothing)."""
    return payload(Flag.RESPONSE_ASSIGN_HOST, _host(host_id))


BEGIN_HOST_MIGRATE = payload(Flag.RESPONSE_BEGIN_HOST_MIGRATE)


def finish_host_migrate(host_id: int) -> bytes:
    return payload(Flag.RESPONSE_FINISH_HOST_MIGRATE, _host(host_id))
