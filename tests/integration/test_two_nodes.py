"""Two processes serve one game: every API node fans out from NATS to its own sockets."""

import msgspec
import websockets

from api.app import build
from tests.integration.conftest import serving, stop
from tests.integration.test_canvas_live import a_canvas, delta_reaching, next_json


async def test_a_pixel_placed_on_one_node_reaches_a_socket_on_another(make_settings):
    settings = await make_settings()
    first = await build(settings)
    second = await build(settings, roles={"api"})
    canvas = await a_canvas(first)
    try:
        async with serving(first) as port_one, serving(second) as port_two:
            path = f"/api/canvas/{canvas.id}/live"
            async with websockets.connect(f"ws://127.0.0.1:{port_two}{path}") as watcher, \
                    websockets.connect(f"ws://127.0.0.1:{port_one}{path}",
                                       additional_headers={"X-Dev-User": "ann"}) as player:
                await player.send(msgspec.json.encode(
                    {"type": "place", "x": 5, "y": 6, "colour": 1, "op": "n1"}))
                ack = await next_json(player)
                deltas = await delta_reaching(watcher, ack["version"])
                assert ((6 * 20 + 5) << 5 | 1) in deltas[-1][2]
    finally:
        await stop(second)
        await stop(first)
