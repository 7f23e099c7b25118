"""What v1 clients do not notice: attempt limits and lockouts, the optional API key, caps, idle
rooms closed, and a slow reader dropped while the room goes on."""

from __future__ import annotations

import asyncio

import websockets

from infra.relay.proto.relay_v1_pb2 import JoinRoomRequest
from infra.relay.proto.relay_v1_pb2 import Payload as F
from tests.integration.conftest import until
from tests.integration.relay.client import RelayClient, create_room, joined


def _join(room: dict, secret: int | None = None) -> bytes:
    wanted = room["secret"] if secret is None else secret
    return JoinRoomRequest(RoomID=room["id"], RoomSecret=wanted).SerializeToString()


async def test_an_address_with_too_many_failed_connects_must_wait(serve_relay):
    relay = await serve_relay(relay={"attempts_per_ip": 3, "lockout_after": 100})
    room = await create_room(relay.http)
    other = await create_room(relay.http)
    guesser = await RelayClient.open(relay.port)
    for guess in range(3):
        await guesser.send(F.REQUEST_CONNECT, _join(room, room["secret"] ^ (guess + 1)))
        assert (await guesser.error()).Code == 404
    await guesser.send(F.REQUEST_CONNECT, _join(other))  # even the right secret, elsewhere
    assert (await guesser.error()).Code == 429


async def test_a_room_locks_out_an_address_after_wrong_secrets(serve_relay):
    relay = await serve_relay(relay={"lockout_after": 2})
    room = await create_room(relay.http)
    other = await create_room(relay.http)
    guesser = await RelayClient.open(relay.port)
    for guess in range(2):
        await guesser.send(F.REQUEST_CONNECT, _join(room, room["secret"] ^ (guess + 1)))
        assert (await guesser.error()).Code == 404
    await guesser.send(F.REQUEST_CONNECT, _join(room))
    assert (await guesser.error()).Code == 429
    await guesser.connect(other["id"], other["secret"])  # other rooms are still open to it


async def test_a_room_refuses_connects_after_too_many_failures_from_everyone(serve_relay):
    relay = await serve_relay(relay={"attempts_per_room": 2, "lockout_after": 100})
    room = await create_room(relay.http)
    guesser = await RelayClient.open(relay.port)
    for guess in range(2):
        await guesser.send(F.REQUEST_CONNECT, _join(room, room["secret"] ^ (guess + 1)))
        assert (await guesser.error()).Code == 404
    await guesser.send(F.REQUEST_CONNECT, _join(room))
    assert (await guesser.error()).Code == 429


async def test_the_api_key_guards_creating_listing_and_deleting(serve_relay):
    relay = await serve_relay(relay={"api_key": "s3cret"})
    refused = await relay.http.post("/v1/api/rooms", json={"max_clients": 2})
    assert refused.status_code == 401
    assert refused.json() == {"message": refused.json()["message"], "code": 401}
    assert (await relay.http.get("/v1/api/rooms")).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (
        await relay.http.post("/v1/api/rooms", json={"max_clients": 2}, headers=wrong)
    ).status_code == 401
    key = {"Authorization": "Bearer s3cret"}
    created = await relay.http.post("/v1/api/rooms", json={"max_clients": 2}, headers=key)
    room = created.json()["data"]
    assert (
        await relay.http.get("/v1/api/rooms", headers={"X-Api-Key": "s3cret"})
    ).status_code == 200
    assert (await relay.http.delete(f"/v1/api/rooms/{room['id']}")).status_code == 401
    assert (await relay.http.get("/v1/api/summary")).json()["data"]["number_of_rooms"] == 1
    assert (await relay.http.delete(f"/v1/api/rooms/{room['id']}", headers=key)).status_code == 200


async def test_cors_origins_are_configurable(serve_relay):
    relay = await serve_relay(relay={"cors_origins": "https://game.example"})
    preflight = await relay.http.options(
        "/v1/api/rooms",
        headers={"Origin": "https://game.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://game.example"
    other = await relay.http.get("/v1/api/summary", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    refused = await relay.http.get("/v1/api/rooms/1", headers={"Origin": "https://game.example"})
    assert refused.headers["access-control-allow-origin"] == "https://game.example"
    try:
        await websockets.connect(
            f"ws://127.0.0.1:{relay.port}/v1/websocket", origin="https://evil.example"
        )
        raise AssertionError("a foreign origin opened a socket")
    except websockets.InvalidStatus:
        pass


async def test_rooms_commit_clients_within_the_server_cap(serve_relay):
    relay = await serve_relay(
        relay={"max_clients": 10, "committed_round_to": 4, "max_room_clients": 8}
    )
    await create_room(relay.http, max_clients=3)  # commits 4
    await create_room(relay.http, max_clients=4)  # 8
    over = await relay.http.post("/v1/api/rooms", json={"max_clients": 1})  # would be 12
    assert over.status_code == 400
    too_big = await relay.http.post("/v1/api/rooms", json={"max_clients": 9})
    assert too_big.status_code == 400
    summary = (await relay.http.get("/v1/api/summary")).json()["data"]
    assert (summary["committed_clients"], summary["max_clients"]) == (8, 10)


async def test_an_empty_room_is_closed_after_its_idle_time(serve_relay):
    relay = await serve_relay(relay={"idle_room_s": 0.4})
    room = await create_room(relay.http)
    client = await joined(relay.port, room)
    await asyncio.sleep(0.6)  # occupied: stays
    assert (await relay.http.get(f"/v1/api/rooms/{room['id']}")).status_code == 200
    await client.close()

    async def gone() -> bool:
        return (await relay.http.get(f"/v1/api/rooms/{room['id']}")).status_code == 404

    await until(gone, timeout=10)


async def test_a_slow_reader_is_dropped_and_the_others_keep_receiving(serve_relay):
    relay = await serve_relay(relay={"send_queue_bytes": 64 * 1024})
    room = await create_room(relay.http)
    host = await joined(relay.port, room)
    fast = await joined(relay.port, room)
    slow = await RelayClient.open(relay.port, max_queue=1)
    await slow.connect(room["id"], room["secret"])
    count, chunk = 8000, b"x" * 2000
    got: list[int] = []
    caught_up = asyncio.Event()

    async def read_all() -> None:
        while len(got) < count:
            got.append(int.from_bytes((await fast.relayed()).Data[:4], "big"))
            if len(got) % 20 == 0:
                caught_up.set()

    reader = asyncio.create_task(read_all())
    for n in range(count):
        await host.broadcast(n.to_bytes(4, "big") + chunk)
        if n % 20 == 19:  # the host keeps to the pace of the fast reader, never the slow one
            await caught_up.wait()
            caught_up.clear()
    await reader
    assert got == list(range(count))
    assert await slow.closed(timeout=60) == 1008
    assert slow.id not in [client for client, _ in await fast.list()]
