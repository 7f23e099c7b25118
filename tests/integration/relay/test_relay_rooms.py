"""A relay v1 client against a real node: rooms, the standard protocol's powers, host migration,
reconnecting, and what is refused (over real sockets, on real PostgreSQL and NATS)."""

from __future__ import annotations

import asyncio

from infra.relay.proto.relay_v1_pb2 import Payload as F
from tests.integration.relay.client import RelayClient, create_room, joined
from tests.integration.relay.conftest import Served


async def test_the_summary_counts_rooms_clients_and_commitments(relay: Served):
    room = await create_room(relay.http, max_clients=4)
    host = await joined(relay.port, room)
    summary = (await relay.http.get("/v1/api/summary")).json()["data"]
    assert summary["number_of_rooms"] == 1
    assert summary["current_clients"] == 1
    assert summary["committed_clients"] == 4
    await host.close()


async def test_a_room_is_created_listed_and_read_as_v1_room_infos(relay: Served):
    room = await create_room(relay.http, max_clients=3)
    assert set(room) == {"id", "secret", "max_clients", "current_clients", "room_status"}
    assert (room["max_clients"], room["current_clients"], room["room_status"]) == (3, 0, "RUNNING")
    assert 0 <= room["id"] < 2**31 and 0 <= room["secret"] < 2**31
    listed = (await relay.http.get("/v1/api/rooms")).json()["data"]
    assert [r["id"] for r in listed] == [room["id"]]
    read = (await relay.http.get(f"/v1/api/rooms/{room['id']}")).json()
    assert read == {"code": 200, "data": room}


async def test_unknown_rooms_and_bad_requests_are_v1_errors(relay: Served):
    missing = await relay.http.get("/v1/api/rooms/12345")
    assert (missing.status_code, missing.json()["code"]) == (404, 404)
    assert "message" in missing.json()
    bad = await relay.http.get("/v1/api/rooms/nope")
    assert (bad.status_code, bad.json()["code"]) == (400, 400)
    for body in ({"max_clients": 0}, {"max_clients": "4"}, {}, {"max_clients": 2, "protocol": "x"}):
        refused = await relay.http.post("/v1/api/rooms", json=body)
        assert (refused.status_code, refused.json()["code"]) == (400, 400), body
    assert (await relay.http.get("/v1/api/summary")).json()["data"]["number_of_rooms"] == 0


async def test_the_first_client_is_host_and_hears_of_the_others(relay: Served):
    room = await create_room(relay.http)
    host = await RelayClient.open(relay.port)
    assert (await host.connect(room["id"], room["secret"])).ID == 0
    await host.expect(F.RESPONSE_ASSIGN_HOST)
    assert (await host.client_event(F.RESPONSE_CLIENT_CONNECT)).Host
    guest = await joined(relay.port, room)
    told = await host.client_event(F.RESPONSE_CLIENT_CONNECT)
    assert (told.ID, told.Host) == (guest.id, False)
    assert await guest.list() == [(0, True), (1, False)]
    await guest.close()
    assert (await host.client_event(F.RESPONSE_CLIENT_DISCONNECT)).ID == 1
    await host.close()


async def _room_of_three(relay: Served) -> tuple[dict, RelayClient, RelayClient, RelayClient]:
    room = await create_room(relay.http)
    host = await joined(relay.port, room)
    await host.expect(F.RESPONSE_ASSIGN_HOST)
    await host.expect(F.RESPONSE_CLIENT_CONNECT)
    a = await joined(relay.port, room)
    b = await joined(relay.port, room)
    await host.expect(F.RESPONSE_CLIENT_CONNECT)
    await host.expect(F.RESPONSE_CLIENT_CONNECT)
    return room, host, a, b


async def test_the_host_broadcasts_to_everyone_but_itself(relay: Served):
    _, host, a, b = await _room_of_three(relay)
    await host.broadcast(b"state 1")
    for client in (a, b):
        message = await client.relayed()
        assert (message.Type, message.Data) == (0, b"state 1")
    await host.list()  # the next frame the host gets is its list: nothing came back to it


async def test_the_host_targets_one_client(relay: Served):
    _, host, a, b = await _room_of_three(relay)
    await host.target(b.id, b"for b")
    message = await b.relayed()
    assert (message.Target, message.Data) == (b.id, b"for b")
    await host.broadcast(b"then all")
    assert (await a.relayed()).Data == b"then all"  # a got nothing before it


async def test_a_client_sends_only_to_the_host(relay: Served):
    _, host, a, b = await _room_of_three(relay)
    await a.to_host(b"input")
    assert (await host.relayed()).Data == b"input"
    await a.broadcast(b"not allowed")
    assert (await a.error()).Code == 403
    await a.target(b.id, b"not allowed")
    assert (await a.error()).Code == 403
    await host.broadcast(b"after")
    assert (await b.relayed()).Data == b"after"  # b got none of a's


async def test_messages_of_one_sender_arrive_in_order(relay: Served):
    _, host, a, _ = await _room_of_three(relay)
    for n in range(200):
        await host.broadcast(n.to_bytes(2, "big"))
    got = [int.from_bytes((await a.relayed()).Data, "big") for _ in range(200)]
    assert got == list(range(200))


async def test_the_host_kicks_a_client_who_cannot_come_back(relay: Served):
    room, host, a, b = await _room_of_three(relay)
    await host.kick(a.id)
    assert await host.kicked() == a.id
    assert await a.kicked() == a.id
    assert await a.closed() is not None
    again = await RelayClient.open(relay.port)
    await again.send(F.REQUEST_RECONNECT, _rejoin(room, a))
    assert (await again.error()).Code == 403
    assert [c for c, _ in await host.list()] == [0, b.id]


async def test_only_the_host_kicks_and_not_itself(relay: Served):
    _, host, a, b = await _room_of_three(relay)
    await a.kick(b.id)
    assert (await a.error()).Code == 403
    await host.kick(host.id)
    assert (await host.error()).Code == 400
    await host.kick(99)
    assert (await host.error()).Code == 400
    assert len(await host.list()) == 3


async def test_the_host_grants_host_to_another_client(relay: Served):
    _, host, a, b = await _room_of_three(relay)
    await host.grant_host(b.id)
    for client in (host, a, b):
        await client.expect(F.RESPONSE_BEGIN_HOST_MIGRATE)
    await b.expect(F.RESPONSE_ASSIGN_HOST)
    for client in (host, a, b):
        assert await client.finish_migration() == b.id
    await b.broadcast(b"new host")
    assert (await host.relayed()).Data == b"new host"
    await host.broadcast(b"no longer")
    assert (await host.error()).Code == 403


async def test_the_host_migrates_to_the_longest_connected_client(relay: Served):
    _, host, a, b = await _room_of_three(relay)
    await host.close()
    for client in (a, b):
        await client.expect(F.RESPONSE_BEGIN_HOST_MIGRATE)
    await a.expect(F.RESPONSE_ASSIGN_HOST)
    for client in (a, b):
        assert await client.finish_migration() == a.id
    assert await b.list() == [(a.id, True), (b.id, False)]


def _rejoin(room: dict, client: RelayClient, secret: int | None = None) -> bytes:
    from infra.relay.proto.relay_v1_pb2 import RejoinRoomRequest

    return RejoinRoomRequest(
        RoomID=room["id"],
        RoomSecret=room["secret"],
        ClientID=client.id,
        ClientSecret=client.secret if secret is None else secret,
    ).SerializeToString()


async def test_a_client_reconnects_with_its_id_and_secret(relay: Served):
    room, host, a, _ = await _room_of_three(relay)
    old_id, old_secret = a.id, a.secret
    await a.close()
    await host.expect(F.RESPONSE_CLIENT_DISCONNECT)
    back = await RelayClient.open(relay.port)
    client = await back.reconnect(room["id"], room["secret"], old_id, old_secret)
    assert (client.ID, client.Secret) == (old_id, old_secret)
    await host.target(old_id, b"welcome back")
    assert (await back.relayed()).Data == b"welcome back"


async def test_a_wrong_client_secret_is_refused(relay: Served):
    room, _, a, _ = await _room_of_three(relay)
    await a.close()
    thief = await RelayClient.open(relay.port)
    await thief.send(F.REQUEST_RECONNECT, _rejoin(room, a, secret=a.secret ^ 1))
    assert (await thief.error()).Code == 403


async def test_a_full_room_refuses(relay: Served):
    room = await create_room(relay.http, max_clients=1)
    await joined(relay.port, room)
    late = await RelayClient.open(relay.port)
    from infra.relay.proto.relay_v1_pb2 import JoinRoomRequest

    await late.send(
        F.REQUEST_CONNECT,
        JoinRoomRequest(RoomID=room["id"], RoomSecret=room["secret"]).SerializeToString(),
    )
    assert (await late.error()).Code == 400


async def test_a_wrong_room_secret_is_no_such_room(relay: Served):
    room = await create_room(relay.http)
    from infra.relay.proto.relay_v1_pb2 import JoinRoomRequest

    guesser = await RelayClient.open(relay.port)
    wrong = JoinRoomRequest(RoomID=room["id"], RoomSecret=room["secret"] ^ 1)
    await guesser.send(F.REQUEST_CONNECT, wrong.SerializeToString())
    assert (await guesser.error()).Code == 404
    await guesser.connect(room["id"], room["secret"])  # one mistake locks nobody out


async def test_closing_a_room_disconnects_everyone(relay: Served):
    room, host, a, b = await _room_of_three(relay)
    response = await relay.http.delete(f"/v1/api/rooms/{room['id']}")
    assert response.json() == {"code": 200}
    for client in (host, a, b):
        assert (await client.error()).Code == 410
        assert await client.closed() is not None
    assert (await relay.http.get(f"/v1/api/rooms/{room['id']}")).status_code == 404


async def test_a_text_frame_is_an_error_and_changes_nothing(relay: Served):
    _, host, a, _ = await _room_of_three(relay)
    await a.socket.send("hello")
    assert (await a.error()).Code == 400
    await host.broadcast(b"still here")
    assert (await a.relayed()).Data == b"still here"


async def test_garbage_bytes_are_an_error_and_change_nothing(relay: Served):
    _, host, a, _ = await _room_of_three(relay)
    await a.socket.send(b"\xff\xff\xff\xff garbage")
    assert (await a.error()).Code == 400
    await a.send(F.REQUEST_RELAY_MESSAGE, b"\x0a\xff")  # a Relay that does not parse
    assert (await a.error()).Code == 400
    await host.broadcast(b"still here")
    assert (await a.relayed()).Data == b"still here"


async def test_an_unknown_or_response_flag_is_an_error(relay: Served):
    _, _, a, _ = await _room_of_three(relay)
    for flag in (42, F.RESPONSE_CONNECT):
        await a.send(flag)
        assert (await a.error()).Code == 400
    assert len(await a.list()) == 3


async def test_messages_before_joining_a_room_are_refused(relay: Served):
    lonely = await RelayClient.open(relay.port)
    await lonely.broadcast(b"anyone?")
    assert (await lonely.error()).Code == 400
    await lonely.send(F.REQUEST_LIST)
    assert (await lonely.error()).Code == 400


async def test_an_oversize_frame_is_an_error_and_closes_the_socket(serve_relay):
    relay = await serve_relay(relay={"max_frame_bytes": 1024})
    _, host, _, _ = await _room_of_three(relay)
    await host.broadcast(b"x" * 2000)
    assert (await host.error()).Code == 413
    assert await host.closed() == 1009
    await asyncio.sleep(0)


async def test_in_a_mesh_room_anyone_broadcasts_and_targets_and_nobody_hosts(relay: Served):
    room = await create_room(relay.http, protocol="mesh")
    a = await joined(relay.port, room)
    b = await joined(relay.port, room)
    c = await joined(relay.port, room)
    assert (await a.client_event(F.RESPONSE_CLIENT_CONNECT)).ID == b.id  # everyone hears
    assert (await a.client_event(F.RESPONSE_CLIENT_CONNECT)).ID == c.id
    assert (await b.client_event(F.RESPONSE_CLIENT_CONNECT)).ID == c.id
    await c.broadcast(b"from c")
    for client in (a, b):
        assert (await client.relayed()).Data == b"from c"
    await b.target(a.id, b"b to a")
    assert (await a.relayed()).Data == b"b to a"
    await a.to_host(b"no host")
    assert (await a.error()).Code == 400
    await a.kick(b.id)
    assert (await a.error()).Code == 403
