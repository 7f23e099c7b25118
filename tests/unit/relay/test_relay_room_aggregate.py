"""The `RelayRoom` aggregate records a room's life in order; a closed room records nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.relay.errors import RoomClosed
from domain.relay.room import RelayRoom

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def a_room(record: bool = False) -> RelayRoom:
    return RelayRoom.create(
        room_id=uuid4(), room_number=7, max_clients=4, protocol="standard", record=record,
        node="n1", now=NOW,
    )  # fmt: skip


def test_a_rooms_life_replays_to_who_is_in_it_and_who_hosts():
    room = a_room()
    room.join(client_id=0, rejoined=False, node="n1", now=NOW)
    room.migrate_host(client_id=0, now=NOW)
    room.join(client_id=1, rejoined=False, node="n2", now=NOW)
    room.join(client_id=2, rejoined=False, node="n2", now=NOW)
    room.kick(client_id=2, by=0, now=NOW)
    room.grant_host(client_id=1, by=0, now=NOW)
    room.leave(client_id=0, now=NOW)
    events = room.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, RelayRoom)
    assert (replayed.connected, replayed.host, replayed.kicked) == ([1], 1, {2})


def test_a_recording_room_counts_its_messages():
    room = a_room(record=True)
    room.record_messages(messages=[(5, 0, 0, -1, b"\x1a\x01x"), (9, 0, 1, 1, b"")], now=NOW)
    assert room.messages == 2


def test_a_closed_room_records_nothing_more():
    room = a_room()
    room.close(reason="deleted", now=NOW)
    with pytest.raises(RoomClosed):
        room.join(client_id=0, rejoined=False, node="n1", now=NOW)
    room.close(reason="again", now=NOW)  # closing twice records once
    assert [type(e).__name__ for e in room.collect_events()] == ["Created", "Closed"]
