"""The players' roster lives in NATS KV: while NATS is away a newcomer cannot be seated, and is
told the service is unavailable (503, close 1013), never that they must queue or are AFK. The
NATS server here is the test's own, stopped and started by it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import websockets

from api.app import Node, build, create_app
from infra.settings import Settings
from tests.integration.canvas.test_canvas_live import a_canvas
from tests.integration.conftest import serving, stop, until
from tests.support.nats_server import start_nats, stop_nats
from tests.support.ports import free_port


@contextlib.asynccontextmanager
async def a_node_whose_nats_goes_away(
    make_settings: Callable[..., Awaitable[Settings]], store: Path
) -> AsyncIterator[tuple[Node, Callable[[], None]]]:
    """An API node on a private NATS server, and a way to stop that server."""
    port = free_port()
    server = start_nats(port, store)
    try:
        settings = await make_settings(nats_url=f"nats://127.0.0.1:{port}")
        parts = await build(settings)
        try:
            yield parts, lambda: stop_nats(server)
        finally:
            server = start_nats(port, store)  # back, so that the node shuts down as usual
            await until(lambda: _connected(parts), timeout=30)
            await stop(parts)
    finally:
        stop_nats(server)


async def _connected(parts: Node) -> bool:
    return parts.nc.is_connected


async def place_as(http: httpx.AsyncClient, canvas_id: object, user: str) -> httpx.Response:
    return await http.post(
        f"/api/canvas/{canvas_id}/pixels",
        json={"x": 1, "y": 1, "colour": 1},
        headers={"X-Dev-User": user},
    )


async def test_a_newcomer_is_told_503_unavailable_while_the_roster_is_unreachable(
    make_settings, tmp_path: Path
):
    async with a_node_whose_nats_goes_away(make_settings, tmp_path) as (parts, stop_nats_server):
        canvas = await a_canvas(parts)
        transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
        async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
            assert (await place_as(http, canvas.id, "ann")).status_code == 200
            stop_nats_server()
            refused = await place_as(http, canvas.id, "bob")
    assert (refused.status_code, refused.json()["error"]) == (503, "unavailable")
    assert int(refused.headers["retry-after"]) >= 1


async def test_a_socket_that_cannot_be_seated_is_closed_to_try_again_later_not_as_afk(
    make_settings, tmp_path: Path
):
    async with a_node_whose_nats_goes_away(make_settings, tmp_path) as (parts, stop_nats_server):
        canvas = await a_canvas(parts)
        async with serving(parts) as port:
            stop_nats_server()
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas.id}/live"
            async with websockets.connect(url, additional_headers={"X-Dev-User": "bob"}) as bob:
                await asyncio.wait_for(bob.wait_closed(), 30)
    assert (bob.close_code, bob.close_reason) == (1013, "unavailable")
