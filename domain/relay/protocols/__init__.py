"""The protocols a room may be created with (`"protocol"` in `POST /v1/api/rooms`)."""

from __future__ import annotations

from domain.relay.errors import InvalidRoom
from domain.relay.protocols.base import EVERYONE_ELSE, RelayType, RoomProtocol, RoomState
from domain.relay.protocols.mesh import Mesh
from domain.relay.protocols.standard import Standard

PROTOCOLS: dict[str, RoomProtocol] = {p.name: p for p in (Standard(), Mesh())}
DEFAULT = Standard.name

__all__ = [
    "DEFAULT",
    "EVERYONE_ELSE",
    "PROTOCOLS",
    "RelayType",
    "RoomProtocol",
    "RoomState",
    "protocol_named",
]


def protocol_named(name: str | None) -> RoomProtocol:
    try:
        return PROTOCOLS[name or DEFAULT]
    except KeyError:
        known = ", ".join(sorted(PROTOCOLS))
        raise InvalidRoom(f"unknown protocol {name!r} (known: {known})") from None
