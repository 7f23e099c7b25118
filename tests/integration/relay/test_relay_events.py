"""A room's life is recorded as `RelayRoom` events in the event store (by the node's batching
writer); a room created with `"record": true` records its relayed messages too."""

from __future__ import annotations

import asyncio

from domain.relay.room import RelayRoom
from infra.relay.proto.relay_v1_pb2 import Payload as F
from tests.integration.conftest import until
from tests.integration.relay.client import create_room, joined
from tests.integration.relay.conftest import Served


def _events(relay: Served, number: int, uuid=None) -> list:
    rooms = relay.node["relay"].rooms
    room_id = uuid or relay.node["relay"].manager.rooms[number].uuid
    return list(rooms.events.get(room_id))


async def test_a_rooms_life_is_a_sequence_of_events(relay: Served):
    room = await create_room(relay.http, max_clients=4)
    uuid = relay.node["relay"].manager.rooms[room["id"]].uuid
    host = await joined(relay.port, room)
    guest = await joined(relay.port, room)
    kicked = await joined(relay.port, room)
    await host.kick(kicked.id)
    await host.grant_host(guest.id)
    await host.close()
    await guest.expect(F.RESPONSE_BEGIN_HOST_MIGRATE)
    await relay.http.delete(f"/v1/api/rooms/{room['id']}")

    async def closed() -> list[str] | None:
        events = await asyncio.to_thread(_events, relay, room["id"], uuid)
        names = [type(event).__name__ for event in events]
        return names if names[-1:] == ["Closed"] else None

    names = await until(closed)
    assert names == [
        "Created", "ClientJoined", "HostMigrated", "ClientJoined", "ClientJoined",
        "ClientKicked", "HostGranted", "ClientLeft", "Closed",
    ]  # fmt: skip
    stored: RelayRoom = await asyncio.to_thread(relay.node["relay"].rooms.get_room, uuid)
    assert (stored.room_number, stored.closed, stored.kicked) == (room["id"], True, {2})


async def test_relayed_messages_are_not_stored_unless_the_room_records(relay: Served):
    plain = await create_room(relay.http)
    recording = await create_room(relay.http, record=True)
    for room in (plain, recording):
        host = await joined(relay.port, room)
        guest = await joined(relay.port, room)
        for n in range(30):
            await host.broadcast(bytes([n]))
        for _ in range(30):
            await guest.relayed()
    rooms = relay.node["relay"].rooms
    recording_id = relay.node["relay"].manager.rooms[recording["id"]].uuid
    plain_id = relay.node["relay"].manager.rooms[plain["id"]].uuid

    async def recorded() -> int:
        stored = await asyncio.to_thread(rooms.get_room, recording_id)
        return stored.messages == 30

    await until(recorded)
    events = await asyncio.to_thread(lambda: list(rooms.events.get(recording_id)))
    messages = [m for e in events if type(e).__name__ == "MessagesRelayed" for m in e.messages]
    assert [m[4] for m in messages] == [_relay_bytes(n) for n in range(30)]
    assert (await asyncio.to_thread(rooms.get_room, plain_id)).messages == 0


def _relay_bytes(n: int) -> bytes:
    from infra.relay.proto.relay_v1_pb2 import Relay

    return Relay(Type=Relay.BROADCAST, Data=bytes([n])).SerializeToString()
