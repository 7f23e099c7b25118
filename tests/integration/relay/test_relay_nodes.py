"""Many nodes: a room is owned by one node, its clients may be on any; other nodes forward
their frames over NATS. When the owner dies, its rooms move to a node its clients reconnect to,
and they resume with their ids and secrets."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx

from infra.relay.proto.relay_v1_pb2 import Payload as F
from tests.integration.conftest import until
from tests.integration.relay.client import RelayClient, create_room, joined
from tests.integration.relay.conftest import Served
from tests.support.crash import Server


async def test_two_nodes_share_one_room(serve_relay):
    a = await serve_relay()
    b = await serve_relay(beside=a)
    room = await create_room(a.http, max_clients=4)
    host = await joined(a.port, room)
    await host.expect(F.RESPONSE_ASSIGN_HOST)
    await host.expect(F.RESPONSE_CLIENT_CONNECT)
    first = await joined(b.port, room)  # on the other node: forwarded to the owner
    second = await joined(b.port, room)
    for guest in (first, second):
        assert (await host.client_event(F.RESPONSE_CLIENT_CONNECT)).ID == guest.id
    assert await first.list() == [(0, True), (1, False), (2, False)]
    await host.broadcast(b"to everyone")
    for guest in (first, second):
        assert (await guest.relayed()).Data == b"to everyone"
    await second.to_host(b"input")
    assert (await host.relayed()).Data == b"input"
    await first.broadcast(b"not the host")
    assert (await first.error()).Code == 403

    async def seen_on_b() -> bool:
        summary = (await b.http.get("/v1/api/summary")).json()["data"]
        return summary["number_of_rooms"] == 1 and summary["current_clients"] == 3

    await until(seen_on_b)


async def test_one_senders_messages_keep_their_order_across_nodes(serve_relay):
    a = await serve_relay()
    b = await serve_relay(beside=a)
    room = await create_room(b.http)
    host = await joined(a.port, room)  # the host forwarded, the guests on both nodes
    near = await joined(b.port, room)
    far = await joined(a.port, room)
    for n in range(300):
        await host.broadcast(n.to_bytes(2, "big"))
    for guest in (near, far):
        got = [int.from_bytes((await guest.relayed()).Data, "big") for _ in range(300)]
        assert got == list(range(300))


async def test_a_room_closed_on_another_node_disconnects_everyone(serve_relay):
    a = await serve_relay()
    b = await serve_relay(beside=a)
    room = await create_room(a.http)
    host = await joined(a.port, room)
    guest = await joined(b.port, room)
    assert (await b.http.delete(f"/v1/api/rooms/{room['id']}")).status_code == 200
    for client in (host, guest):
        assert await client.closed() is not None


async def test_an_owner_killed_hands_its_rooms_to_a_node_its_clients_reconnect_to(
    make_settings, serve_relay
):
    settings = await make_settings(relay={"node_ttl_s": 2.0})
    with tempfile.TemporaryDirectory() as data:
        owner = Server(settings, Path(data))
        await owner.start()
        try:
            b = await serve_relay(beside=_served(settings))
            async with httpx.AsyncClient(base_url=owner.url) as http:
                room = await create_room(http)
            host = await joined(owner.port, room)
            guest = await joined(b.port, room)
            await host.broadcast(b"before")
            assert (await guest.relayed()).Data == b"before"
            directory = b.node["relay"].cluster.directory

            async def shared() -> bool:  # who is in the room reached the other nodes
                entry = directory.entries.get(room["id"])
                return entry is not None and len(entry.clients) == 2

            await until(shared)
            owner.kill()
            assert await guest.closed(timeout=20) == 1012  # owner gone: reconnect
            back = await RelayClient.open(b.port)
            await back.reconnect(room["id"], room["secret"], guest.id, guest.secret)
            await back.expect(F.RESPONSE_ASSIGN_HOST)  # the first one back is host
            old_host = await RelayClient.open(b.port)
            await old_host.reconnect(room["id"], room["secret"], host.id, host.secret)
            await back.broadcast(b"after")
            assert (await old_host.relayed()).Data == b"after"
            assert sorted(c for c, _ in await old_host.list()) == [host.id, guest.id]
        finally:
            owner.kill()
            await owner.wait_exited()


def _served(settings):
    """A stand-in for `beside=`: only its settings are read."""

    class _Node:
        pass

    node = _Node()
    node.settings = settings  # type: ignore[attr-defined]
    return Served(node, 0, None)  # type: ignore[arg-type]


async def _settle() -> None:
    await asyncio.sleep(0)
