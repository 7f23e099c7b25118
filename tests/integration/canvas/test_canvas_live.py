import asyncio

import msgspec
import pytest
import uvicorn
import websockets

from api.app import Node, build, create_app
from commands.actor import Actor
from commands.canvas.wire import CreateCanvas, FillRectangle, PlacePixel
from projections.canvas.bitmap import decode_delta
from tests.integration.conftest import _started, serving, stop, until
from tests.support.ports import free_port

PALETTE = ["#ffffff", "#000000", "#ff0000"]


async def a_canvas(parts: Node, cooldown_ms: int = 0):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=20, height=10, palette=PALETTE, cooldown_ms=cooldown_ms),
    )
    await until(lambda: _known(parts, canvas.id))
    return canvas


async def _known(parts: Node, canvas_id) -> bool:
    return await parts["canvas"].reads.view.find_canvas(canvas_id) is not None


async def next_json(socket, *, skip: tuple[str, ...] = ("status",)) -> dict:
    """The next control message, passing over deltas (and, unless asked for, standings)."""
    while True:
        frame = await asyncio.wait_for(socket.recv(), 10)
        if isinstance(frame, str):
            message = msgspec.json.decode(frame)
            if message["type"] not in skip:
                return message


async def delta_reaching(socket, version: int) -> list[tuple[int, int, list[int]]]:
    deltas = []
    while not deltas or deltas[-1][1] < version:
        frame = await asyncio.wait_for(socket.recv(), 10)
        if isinstance(frame, bytes):
            start, end, entries = decode_delta(frame)
            deltas.append((start, end, entries.tolist()))
    return deltas


async def test_a_pixel_placed_over_one_socket_reaches_the_other(parts: Node):
    canvas = await a_canvas(parts)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url, additional_headers={"X-Dev-User": "ann"}) as player, \
                websockets.connect(url) as spectator:
            await player.send(msgspec.json.encode({"type": "place", "x": 3, "y": 2, "colour": 2,
                                                   "op": "a"}))
            ack = await next_json(player)
            assert ack == {"type": "ack", "op": "a", "version": 2, "replayed": False}
            deltas = await delta_reaching(spectator, 2)
            assert deltas[-1][1] == 2
            assert ((2 * 20 + 3) << 5 | 2) in deltas[-1][2]


async def test_a_resent_placement_is_acked_with_its_first_version_as_replayed(parts: Node):
    canvas = await a_canvas(parts)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url, additional_headers={"X-Dev-User": "ann"}) as player:
            for op, x in (("a1", 1), ("a2", 2), ("a1", 1)):
                await player.send(msgspec.json.encode({"type": "place", "x": x, "y": 0,
                                                       "colour": 1, "op": op}))
            acks = [await next_json(player) for _ in range(3)]
    assert [(ack["op"], ack["version"], ack.get("replayed")) for ack in acks] == [
        ("a1", 2, False), ("a2", 3, False), ("a1", 2, True)]


async def first_frame(socket) -> str | bytes:
    return await asyncio.wait_for(socket.recv(), 10)


async def test_a_socket_opened_with_since_starts_with_what_was_missed_then_goes_on_live(
    parts: Node,
):
    canvas = await a_canvas(parts)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url, additional_headers={"X-Dev-User": "ann"}) as player:
            for op, x in (("a", 1), ("b", 2), ("c", 3)):  # versions 2, 3, 4
                await player.send(msgspec.json.encode({"type": "place", "x": x, "y": 0,
                                                       "colour": 1, "op": op}))
            await delta_reaching(player, 4)  # projected: in the delta ring
            async with websockets.connect(f"{url}?since=2") as back:
                start, end, entries = decode_delta(await first_frame(back))
                assert (start, end, sorted(entries.tolist())) == (2, 4, [2 << 5 | 1, 3 << 5 | 1])
                await player.send('{"type": "place", "x": 4, "y": 0, "colour": 2, "op": "d"}')
                assert (await delta_reaching(back, 5))[-1][:2] == (4, 5)
            async with websockets.connect(f"{url}?since=5") as current:  # nothing missed
                assert decode_delta(await first_frame(current))[:2] == (5, 5)


@pytest.mark.parametrize(("since", "code"), [
    ("99", "version_in_future"), ("-1", "invalid_version"), ("2.5", "invalid_version"),
    ("x" * 500, "invalid_version"), ("%D9%A1", "invalid_version"),  # an Arabic 1
])
async def test_a_since_that_cannot_be_caught_up_from_gets_an_error_frame_and_the_socket_lives_on(
    parts: Node, since: str, code: str,
):
    canvas = await a_canvas(parts)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url, additional_headers={"X-Dev-User": "ann"}) as player:
            await player.send('{"type": "place", "x": 1, "y": 0, "colour": 1, "op": "a"}')
            await delta_reaching(player, 2)
            async with websockets.connect(f"{url}?since={since}") as late:
                refused = msgspec.json.decode(await first_frame(late))
                assert (refused["type"], refused["error"]) == ("error", code)
                assert "op" not in refused
                await player.send('{"type": "place", "x": 2, "y": 0, "colour": 1, "op": "b"}')
                assert (await delta_reaching(late, 3))[-1][1] == 3


async def test_an_op_id_reused_for_another_pixel_gets_an_op_reused_error_frame(parts: Node):
    canvas = await a_canvas(parts)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url, additional_headers={"X-Dev-User": "ann"}) as player:
            await player.send('{"type": "place", "x": 1, "y": 1, "colour": 1, "op": "a1"}')
            assert (await next_json(player))["type"] == "ack"
            await player.send('{"type": "place", "x": 2, "y": 2, "colour": 1, "op": "a1"}')
            refused = await next_json(player)
    assert (refused["type"], refused["error"], refused["op"]) == ("error", "op_reused", "a1")


async def test_refusals_come_back_as_error_frames(parts: Node):
    canvas = await a_canvas(parts, cooldown_ms=60_000)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url) as spectator:
            await spectator.send('{"type": "place", "x": 1, "y": 1, "colour": 1}')
            assert (await next_json(spectator))["error"] == "unauthenticated"
        async with websockets.connect(url, additional_headers={"X-Dev-User": "bob"}) as player:
            await player.send('{"type": "place", "x": 1, "y": 1, "colour": 1}')
            assert (await next_json(player))["type"] == "ack"
            await player.send('{"type": "place", "x": 2, "y": 1, "colour": 1, "op": "b"}')
            refused = await next_json(player)
            assert (refused["error"], refused["op"]) == ("cooldown", "b") and refused["wait_ms"] > 0
            await player.send('{"type": "place", "x": 99, "y": 1, "colour": 1}')
            assert (await next_json(player))["error"] == "out_of_bounds"


@pytest.mark.parametrize("garbage", [b"\x00\xff garbage", "not json", '{"type": "teleport"}',
                                     '{"type": "place", "x": "a"}', "[1, 2, 3]"])
async def test_garbage_gets_an_error_frame_and_the_socket_lives_on(parts: Node, garbage):
    canvas = await a_canvas(parts)
    async with serving(parts) as port, websockets.connect(
        f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
    ) as socket:
        await socket.send(garbage)
        assert (await next_json(socket))["error"] == "invalid_message"
        await socket.send('{"type": "ping"}')
        assert (await next_json(socket)) == {"type": "pong"}


async def test_a_huge_frame_closes_the_socket_with_a_reason(parts: Node):
    canvas = await a_canvas(parts)
    async with serving(parts) as port, websockets.connect(
        f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
    ) as socket:
        await socket.send("x" * 100_000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await next_json(socket)
        assert closed.value.rcvd.code == 1009


async def test_an_unknown_canvas_is_refused(parts: Node):
    async with serving(parts) as port, websockets.connect(
        f"ws://127.0.0.1:{port}/api/canvas/00000000-0000-0000-0000-000000000000/live"
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd.code == 4404


async def test_a_client_that_does_not_read_is_told_to_resync_and_dropped(make_settings):
    settings = await make_settings(live_queue_frames=4)
    parts = await build(settings)
    admin = Actor("root", is_admin=True)
    try:
        canvas = await asyncio.to_thread(
            parts["canvas"].canvases.create_canvas,
            CreateCanvas(width=400, height=400, palette=PALETTE, cooldown_ms=0),
        )
        await until(lambda: _known(parts, canvas.id))
        async with serving(parts) as port:
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
            async with websockets.connect(url, max_size=None) as healthy, \
                    websockets.connect(url, max_size=None, max_queue=1) as stalled:
                await stalled.send('{"type": "ping"}')  # and never reads again
                version = canvas.version
                for colour in range(60):  # 640 kB deltas: the stalled socket's buffers fill up
                    fill = FillRectangle(x=0, y=0, width=400, height=400, colour=colour % 3)
                    version = (await parts["canvas"].canvases.execute(canvas.id, admin, fill)).version
                    await delta_reaching(healthy, version)  # the healthy client keeps up
                    if parts["canvas"].fanout.slow_dropped:
                        break
                await until(lambda: _dropped(parts))
                placed = await parts["canvas"].canvases.execute(canvas.id, admin,
                                                      PlacePixel(x=1, y=1, colour=1))
                assert (await delta_reaching(healthy, placed.version))[-1][1] == placed.version
    finally:
        await stop(parts)


async def _dropped(parts: Node) -> bool:
    return parts["canvas"].fanout.slow_dropped > 0


async def test_a_stream_of_placements_reaches_another_socket_whole_and_in_order(make_settings):
    parts = await build(await make_settings(identity={"rate_account_per_s": 0}))
    try:
        canvas = await asyncio.to_thread(
            parts["canvas"].canvases.create_canvas,
            CreateCanvas(width=20, height=20, palette=PALETTE, cooldown_ms=0),
        )
        await until(lambda: _known(parts, canvas.id))
        async with serving(parts) as port:
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
            async with websockets.connect(url, additional_headers={"X-Dev-User": "ann"}) as \
                    player, websockets.connect(url) as spectator:
                placed = {(i % 20, i // 20): 1 + i % 2 for i in range(300)}
                for (x, y), colour in placed.items():  # pipelined: no waiting for the acks
                    await player.send(msgspec.json.encode({"type": "place", "x": x, "y": y,
                                                           "colour": colour}))
                versions: list[int] = []
                while len(versions) < len(placed):
                    message = await next_json(player)
                    if message["type"] != "status":  # the player's standing is no answer
                        versions.append(message["version"])
                deltas = await delta_reaching(spectator, max(versions))
    finally:
        await stop(parts)
    assert all(deltas[i][0] == deltas[i - 1][1] for i in range(1, len(deltas)))
    board: dict[tuple[int, int], int] = {}
    for _, _, entries in deltas:
        for entry in entries:
            board[((entry >> 5) % 20, (entry >> 5) // 20)] = entry & 31
    assert board == placed


async def test_under_a_server_without_the_frame_sink_deltas_still_arrive(parts: Node):
    canvas = await a_canvas(parts)
    port = free_port()  # uvicorn as it comes: plain ASGI sends, no `infra.live.socket`
    server = uvicorn.Server(uvicorn.Config(create_app(parts.settings, node=parts), port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        await until(lambda: _started(server))
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
        async with websockets.connect(url) as spectator:
            admin = Actor("root", is_admin=True)
            first = await parts["canvas"].canvases.execute(canvas.id, admin, PlacePixel(x=1, y=1, colour=1))
            second = await parts["canvas"].canvases.execute(canvas.id, admin, PlacePixel(x=2, y=1, colour=2))
            deltas = await delta_reaching(spectator, second.version)
            await spectator.send('{"type": "ping"}')
            assert (await next_json(spectator)) == {"type": "pong"}
    finally:
        server.should_exit = True
        await task
    entries = [entry for _, _, chunk in deltas for entry in chunk]
    assert entries[-2:] == [(20 + 1) << 5 | 1, (20 + 2) << 5 | 2]
    assert deltas[-1][1] == second.version > first.version


async def test_a_control_character_in_a_frame_gets_an_error_frame_naming_the_field(parts: Node):
    canvas = await a_canvas(parts)
    async with serving(parts) as port, websockets.connect(
        f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live",
        additional_headers={"X-Dev-User": "bob"},
    ) as player:
        await player.send('{"type": "place", "x": 1, "y": 1, "colour": 1, "op": "a\\u0000"}')
        refused = await next_json(player)
        await player.send('{"type": "place", "x": 1, "y": 1, "colour": 1, "op": "b"}')
        ack = await next_json(player)
    assert (refused["type"], refused.get("error"), refused.get("field")) == ("error", "invalid_text", "op")
    assert (ack["type"], ack["version"]) == ("ack", 2)  # nothing was placed before it
