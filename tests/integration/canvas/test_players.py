"""Player states over real sockets and a real NATS KV roster: playing, queued, AFK, and the
admission queue; time is a clock the test moves."""

import asyncio
import contextlib

import httpx
import msgspec
import websockets
from websockets.exceptions import ConnectionClosed

from api.app import Node, build, create_app
from tests.integration.canvas.test_canvas_live import a_canvas
from tests.integration.conftest import serving, stop, until
from tests.support.clock import ManualClock

WINDOW_S = 120


async def next_status(socket, **expected) -> dict:
    """The next standing the socket is told of (that matches `expected`, when given)."""
    while True:
        frame = await asyncio.wait_for(socket.recv(), 10)
        if not isinstance(frame, str):
            continue
        message = msgspec.json.decode(frame)
        if message["type"] == "status" and expected.items() <= message.items():
            return message


def with_clock(parts: Node) -> ManualClock:
    clock = ManualClock()
    parts["canvas"].presence.clock = clock
    return clock


@contextlib.asynccontextmanager
async def players(url: str, *names: str):
    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                websockets.connect(url, additional_headers={"X-Dev-User": name})
            )
            for name in names
        ]
        yield sockets


async def test_players_beyond_the_cap_queue_and_are_admitted_in_order(make_settings):
    parts = await build(await make_settings(canvas={"player_cap": 1}))
    clock = with_clock(parts)
    canvas = await a_canvas(parts)
    try:
        async with serving(parts) as port:
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
            async with players(url, "ann") as [ann]:
                assert (await next_status(ann))["state"] == "playing"
                async with players(url, "bob", "cat") as [bob, cat]:
                    assert (await next_status(bob))["position"] == 1
                    cat_status = await next_status(cat)
                    assert (cat_status["state"], cat_status["position"]) == ("queued", 2)
                    assert cat_status["queue_length"] == 2

                    clock.advance(WINDOW_S + 1)
                    parts["canvas"].presence.wake()

                    await next_status(ann, state="afk")
                    await asyncio.wait_for(ann.wait_closed(), 10)
                    assert ann.close_code == 4001
                    await next_status(bob, state="playing")
                    assert (await next_status(cat))["position"] == 1
    finally:
        await stop(parts)


async def test_a_placement_keeps_a_player_playing_and_inactivity_makes_them_afk(parts: Node):
    clock = with_clock(parts)
    canvas = await a_canvas(parts)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with players(url, "ann") as [ann]:
            assert (await next_status(ann))["state"] == "playing"
            clock.advance(WINDOW_S - 10)
            await ann.send('{"type": "place", "x": 1, "y": 1, "colour": 1, "op": "keep"}')
            await until(lambda: _acked(ann))
            clock.advance(20)
            parts["canvas"].presence.wake()
            assert parts["canvas"].presence.is_playing(str(canvas.id), "ann")

            clock.advance(WINDOW_S)
            parts["canvas"].presence.wake()
            await next_status(ann, state="afk")
            with contextlib.suppress(ConnectionClosed):
                await ann.send('{"type": "place", "x": 2, "y": 1, "colour": 1}')
                await asyncio.wait_for(ann.wait_closed(), 10)
            assert ann.close_code == 4001


async def _acked(socket) -> bool:
    frame = await asyncio.wait_for(socket.recv(), 10)
    return isinstance(frame, str) and msgspec.json.decode(frame)["type"] == "ack"


async def test_a_player_who_returns_within_the_window_keeps_playing(make_settings):
    parts = await build(await make_settings(canvas={"player_cap": 1}))
    clock = with_clock(parts)
    canvas = await a_canvas(parts)
    try:
        async with serving(parts) as port:
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
            async with players(url, "ann") as [ann]:
                assert (await next_status(ann))["state"] == "playing"
            clock.advance(WINDOW_S / 2)  # a reload, or a train through a tunnel
            async with players(url, "bob") as [bob]:
                assert (await next_status(bob))["state"] == "queued"
                async with players(url, "ann") as [ann]:
                    assert (await next_status(ann))["state"] == "playing"
                assert parts["canvas"].presence.standing(str(canvas.id), "bob").position == 1
    finally:
        await stop(parts)


async def test_a_queued_player_cannot_place_over_http_or_the_socket(make_settings):
    parts = await build(await make_settings(canvas={"player_cap": 1}))
    canvas = await a_canvas(parts)
    try:
        app = create_app(parts.settings, node=parts)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://tessera.test") as http:
            place = f"/api/canvas/{canvas.id}/pixels"
            first = await http.post(place, json={"x": 0, "y": 0, "colour": 1},
                                    headers={"X-Dev-User": "ann"})
            assert first.status_code == 200
            refused = await http.post(place, json={"x": 1, "y": 0, "colour": 1},
                                      headers={"X-Dev-User": "bob"})
            assert refused.status_code == 409
            assert (refused.json()["error"], refused.json()["position"]) == ("not_playing", 1)
        async with serving(parts) as port:
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
            async with players(url, "bob") as [bob]:
                assert (await next_status(bob))["state"] == "queued"
                await bob.send('{"type": "place", "x": 1, "y": 0, "colour": 1, "op": "q"}')
                while (message := msgspec.json.decode(await bob.recv()))["type"] != "error":
                    pass
                assert (message["error"], message["position"]) == ("not_playing", 1)
        assert (await asyncio.to_thread(parts["canvas"].canvases.get_canvas, canvas.id)).version == 2
    finally:
        await stop(parts)


async def test_presence_is_shared_by_api_nodes(make_settings):
    settings = await make_settings(canvas={"player_cap": 1})
    first = await build(settings)
    second = await build(settings, roles={"api"})
    canvas = await a_canvas(first)
    try:
        async with serving(first) as port_one, serving(second) as port_two:
            path = f"/api/canvas/{canvas.id}/live"
            async with players(f"ws://127.0.0.1:{port_one}{path}", "ann") as [ann]:
                assert (await next_status(ann))["state"] == "playing"
                async with players(f"ws://127.0.0.1:{port_two}{path}", "bob") as [bob]:
                    assert (await next_status(bob))["state"] == "queued"
                    assert second["canvas"].presence.counts(str(canvas.id)) == (1, 1)
                    await until(lambda: _counts(first, str(canvas.id), (1, 1)))
    finally:
        await stop(second)
        await stop(first)


async def _counts(parts: Node, canvas: str, expected: tuple[int, int]) -> bool:
    return parts["canvas"].presence.counts(canvas) == expected
