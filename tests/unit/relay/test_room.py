"""A live room with fake members and journal: what each does to the others, without sockets."""

from __future__ import annotations

import itertools
from uuid import uuid4

import pytest

from domain.relay.errors import Banned, RoomFull, WrongClientSecret
from domain.relay.protocols import protocol_named
from infra.relay.proto.relay_v1_pb2 import Payload, Relay
from infra.relay.room import Room, same_secret


class Member:
    def __init__(self) -> None:
        self.client_id = -1
        self.secret = 0
        self.frames: list[Payload] = []
        self.ended: tuple[int, str] | None = None

    def send(self, wire: bytes) -> None:
        body = wire[4:] if wire[1] == 126 else wire[2:]
        self.frames.append(Payload.FromString(body))

    def end(self, code: int = 1000, reason: str = "") -> None:
        self.ended = (code, reason)

    def flags(self) -> list[int]:
        flags, self.frames = [f.Flag for f in self.frames], []
        return flags


class Journal:
    def __init__(self) -> None:
        self.facts: list[tuple] = []

    def __getattr__(self, name: str):
        return lambda *args: self.facts.append((name, *args[1:]))


def a_room(max_clients: int = 4, protocol: str = "standard") -> tuple[Room, Journal]:
    secrets = itertools.count(1000)
    journal = Journal()
    room = Room(
        uuid=uuid4(), number=1, secret=42, max_clients=max_clients,
        protocol=protocol_named(protocol), record=False, journal=journal,  # type: ignore[arg-type]
        new_secret=lambda: next(secrets),
    )  # fmt: skip
    return room, journal


def members(room: Room, n: int) -> list[Member]:
    joined = [Member() for _ in range(n)]
    for member in joined:
        room.join(member)
    for member in joined:
        member.flags()
    return joined


def test_secrets_compare_equal_only_when_equal():
    assert same_secret(123, 123) and not same_secret(123, 124) and not same_secret(-1, 2**31 - 1)


def test_a_broadcast_reaches_everyone_but_the_host_with_the_relay_as_sent():
    room, _ = a_room()
    host, a, b = members(room, 3)
    data = Relay(Type=Relay.BROADCAST, Data=b"hi").SerializeToString()
    room.relay(host, data)
    assert [f.Data for f in a.frames] == [data] == [f.Data for f in b.frames]
    assert host.frames == []


def test_a_full_room_refuses_and_changes_nothing():
    room, journal = a_room(max_clients=2)
    members(room, 2)
    before = list(journal.facts)
    with pytest.raises(RoomFull):
        room.join(Member())
    assert room.current_clients == 2 and journal.facts == before


def test_the_host_leaving_migrates_to_the_longest_connected():
    room, journal = a_room()
    host, a, b = members(room, 3)
    room.leave(host)
    assert room.host == a.client_id
    assert a.flags() == [
        Payload.RESPONSE_BEGIN_HOST_MIGRATE, Payload.RESPONSE_ASSIGN_HOST,
        Payload.RESPONSE_FINISH_HOST_MIGRATE,
    ]  # fmt: skip
    assert b.flags() == [Payload.RESPONSE_BEGIN_HOST_MIGRATE, Payload.RESPONSE_FINISH_HOST_MIGRATE]
    assert ("host_changed", a.client_id, None) in journal.facts


def test_a_kicked_client_is_ended_and_banned():
    room, _ = a_room()
    host, a, _ = members(room, 3)
    room.kick(host, a.client_id)
    assert a.ended == (1000, "kicked")
    with pytest.raises(Banned):
        room.rejoin(Member(), a.client_id, a.secret)


def test_a_rejoin_needs_the_clients_own_secret():
    room, _ = a_room()
    _, a = members(room, 2)
    room.leave(a)
    with pytest.raises(WrongClientSecret):
        room.rejoin(Member(), a.client_id, a.secret + 1)
    back = Member()
    room.rejoin(back, a.client_id, a.secret)
    assert room.member(a.client_id) is back


def test_a_rejoin_under_a_connected_id_replaces_the_old_connection():
    room, _ = a_room()
    _, a = members(room, 2)
    fresh = Member()
    room.rejoin(fresh, a.client_id, a.secret)
    assert a.ended == (1000, "replaced") and room.member(a.client_id) is fresh
    assert room.current_clients == 2


def test_closing_ends_everyone():
    room, journal = a_room()
    everyone = members(room, 3)
    room.close("deleted")
    assert all(m.ended is not None for m in everyone)
    assert journal.facts[-1] == ("closed", "deleted")
