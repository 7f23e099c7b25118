"""What the relay handlers receive: their running parts, as the dependency `relay`."""

from __future__ import annotations

from dataclasses import dataclass

from api.node import parts_provider
from commands.relay.rooms import RelayRooms
from infra.relay.cluster import Cluster
from infra.relay.journal import RoomJournal
from infra.relay.limits import AttemptLimiter
from infra.relay.manager import RoomManager
from infra.settings import RelaySettings

NAME = "relay"


@dataclass
class RelayParts:
    settings: RelaySettings
    rooms: RelayRooms
    journal: RoomJournal
    manager: RoomManager
    limiter: AttemptLimiter
    cluster: Cluster
    node: str


provide_relay = parts_provider(NAME, RelayParts)
