import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import websockets

from api.app import Node, build
from commands.desk.desks import desk_id_of
from tests.integration.conftest import serving, stop, until
from tests.integration.desk.desk_sessions import signed_desk_clients  # noqa: F401 -- autouse
from tests.integration.desk.test_desk_live import an_op as a_live_op
from tests.integration.desk.test_desk_live import hello, live_url, receive, send

TTL_S = 3600
IDLE_S = 600


class Clock:
    """The desks' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def move(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def settings(make_settings):
    return await make_settings(desk={"ttl_s": TTL_S, "idle_session_s": IDLE_S})


@pytest.fixture
def clock(parts: Node) -> Clock:
    clock = Clock()
    parts["desk"].desks.clock = clock
    return clock


def an_op(seq: int, client: str, **fields: object) -> dict:
    """As `POST …/ops` takes it."""
    op = a_live_op(seq, client, **fields)
    del op["type"]
    return op


async def a_desk(client, name: str = "retro") -> dict:
    response = await client.post("/api/desk/init", json={"name": name, "create_new": True})
    return response.json()  # type: ignore[no-any-return]


async def projected(parts: Node, link: str) -> bool:
    return await parts["desk"].view.find_head(desk_id_of(link)) is not None


async def test_a_desk_is_closed_a_ttl_after_its_last_edit(parts: Node, client, clock: Clock):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, "ann", create=True, text="hi"))
    await until(lambda: projected(parts, desk))
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        await hello(ann, "ann", last_seq=1)
        clock.move(TTL_S - 1)
        await parts["desk"].lifecycle.run_once()
        assert parts["desk"].lifecycle.closed == 0
        clock.move(1)
        await parts["desk"].lifecycle.run_once()
        assert parts["desk"].lifecycle.closed == 1
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await ann.recv()
        assert ann.close_code == 4410
    await until(lambda: _dropped(parts, desk))
    assert (await client.get(f"/api/desk/{desk}")).status_code == 410
    stored = await asyncio.to_thread(parts["desk"].desks._find, desk_id_of(desk))
    assert stored is not None and not stored.is_open


async def _dropped(parts: Node, link: str) -> bool:
    return not await projected(parts, link)


async def test_an_edit_moves_the_expiry(parts: Node, client, clock: Clock):
    desk = (await a_desk(client))["desk_id"]
    clock.move(TTL_S - 10)
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, "ann", create=True))
    clock.move(20)
    await parts["desk"].lifecycle.run_once()
    assert parts["desk"].lifecycle.closed == 0
    assert (await client.get(f"/api/desk/{desk}")).status_code == 200


async def test_a_session_ends_after_the_idle_time_without_sockets(
    parts: Node, client, clock: Clock
):
    desk = (await a_desk(client))["desk_id"]
    async with serving(parts) as port:
        async with websockets.connect(live_url(port, desk)) as ann:
            await hello(ann, "ann", epoch=1)
        await until(lambda: _no_sockets(parts, desk))
        clock.move(IDLE_S - 1)
        await parts["desk"].lifecycle.run_once()
        assert (await client.get(f"/api/desk/{desk}")).json()["epoch"] == 1
        clock.move(1)
        await parts["desk"].lifecycle.run_once()
    assert parts["desk"].lifecycle.sessions_ended == 1
    assert (await client.get(f"/api/desk/{desk}")).json()["epoch"] == 2


async def _no_sockets(parts: Node, link: str) -> bool:
    return parts["desk"].hub.sockets(desk_id_of(link)) == 0


async def test_a_session_with_a_socket_on_another_node_does_not_end(
    parts: Node, settings, client, clock: Clock
):
    second = await build(settings, roles={"api"})
    try:
        desk = (await a_desk(client))["desk_id"]
        async with (
            serving(parts) as port_a,
            serving(second) as port_b,
            websockets.connect(live_url(port_b, desk)) as bob,
        ):
            await hello(bob, "bob")
            async with websockets.connect(live_url(port_a, desk)) as ann:
                await hello(ann, "ann")
            await until(lambda: _no_sockets(parts, desk))
            clock.move(IDLE_S)
            await parts["desk"].lifecycle.run_once()
            await send(bob, {"type": "ping"})
            assert (await receive(bob)) == {"type": "pong"}
        assert parts["desk"].lifecycle.sessions_ended == 0
        assert (await client.get(f"/api/desk/{desk}")).json()["epoch"] == 1
    finally:
        await stop(second)


async def test_idle_desks_are_evicted_and_loaded_again_on_the_next_op(
    parts: Node, client, clock: Clock
):
    desks = [(await a_desk(client, f"d{i}"))["desk_id"] for i in range(3)]
    for desk in desks:
        await client.post(f"/api/desk/{desk}/ops", json=an_op(1, "ann", create=True))
    assert parts["desk"].desks.active_desks() == 3
    clock.move(61)
    await parts["desk"].lifecycle.run_once()
    assert parts["desk"].desks.active_desks() == 0
    ack = await client.post(f"/api/desk/{desks[0]}/ops", json=an_op(2, "ann", text="back"))
    assert ack.json()["desk_seq"] == 2
    assert parts["desk"].desks.active_desks() == 1


async def test_an_authors_ops_sent_together_to_an_evicted_desk_keep_their_order(
    parts: Node, client, clock: Clock
):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, "ann", create=True))
    clock.move(61)
    await parts["desk"].lifecycle.run_once()
    assert parts["desk"].desks.active_desks() == 0
    acks = await asyncio.gather(
        *(
            client.post(f"/api/desk/{desk}/ops", json=an_op(seq, "ann", x=float(seq)))
            for seq in range(2, 22)
        )
    )
    assert [ack.json()["desk_seq"] for ack in acks] == list(range(2, 22))
