"""The pixel inspector, the current game and the client's configuration, over HTTP."""

import asyncio

import httpx

from api.app import Node
from commands.canvas.wire import CreateCanvas
from tests.integration.conftest import until

PALETTE = ["#ffffff", "#000000", "#ff0000"]
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}


async def a_canvas(parts: Node, title: str = ""):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=8, height=8, palette=PALETTE, cooldown_ms=0, title=title),
    )
    await until(lambda: parts["canvas"].reads.view.find_canvas(canvas.id))
    return canvas


async def inspected(http: httpx.AsyncClient, canvas_id, x: int, y: int) -> dict:
    response = await http.get(f"/api/canvas/{canvas_id}/pixels/{x}/{y}")
    assert response.status_code == 200
    return response.json()


async def test_the_inspector_shows_who_painted_a_pixel_and_when(client, parts: Node):
    canvas = await a_canvas(parts)
    placed = await client.post(f"/api/canvas/{canvas.id}/pixels",
                               json={"x": 3, "y": 4, "colour": 2}, headers={"X-Dev-User": "ann"})
    version = placed.json()["version"]
    pixel = await until(lambda: _painted(client, canvas.id, 3, 4))
    assert (pixel["colour"], pixel["version"]) == (2, version)
    assert pixel["user"] is not None and pixel["placed_at"]
    untouched = await inspected(client, canvas.id, 0, 0)
    assert (untouched["colour"], untouched["user"]) == (0, None)


async def test_a_fill_paints_over_and_a_clear_forgets_the_painters(client, parts: Node):
    canvas = await a_canvas(parts)
    await client.post(f"/api/canvas/{canvas.id}/pixels", json={"x": 1, "y": 1, "colour": 2},
                      headers={"X-Dev-User": "ann"})
    fill = {"x": 0, "y": 0, "width": 3, "height": 3, "colour": 1}
    filled = await client.post(f"/api/canvas/{canvas.id}/fill", json=fill, headers=ADMIN)
    fill_version = filled.json()["version"]
    pixel = await until(lambda: _at_version(client, canvas.id, fill_version))
    assert pixel["colour"] == 1
    await client.post(f"/api/canvas/{canvas.id}/clear", headers=ADMIN)
    await until(lambda: _forgotten(client, canvas.id))


async def _painted(http, canvas_id, x, y):
    pixel = await inspected(http, canvas_id, x, y)
    return pixel if pixel["user"] else None


async def _at_version(http, canvas_id, version):
    pixel = await inspected(http, canvas_id, 1, 1)
    return pixel if pixel["version"] == version else None


async def _forgotten(http, canvas_id):
    return (await inspected(http, canvas_id, 1, 1))["user"] is None


async def test_inspecting_outside_the_canvas_is_a_clear_error(client, parts: Node):
    canvas = await a_canvas(parts)
    response = await client.get(f"/api/canvas/{canvas.id}/pixels/8/0")
    assert (response.status_code, response.json()["error"]) == (422, "pixel_out_of_bounds")


async def test_the_current_canvas_is_the_newest_open_one(client, parts: Node):
    assert (await client.get("/api/canvas/current")).status_code == 404
    await a_canvas(parts, "first")
    second = await a_canvas(parts, "second")
    current = await until(lambda: _current(client, second.id))
    assert current["title"] == "second"
    await client.post(f"/api/canvas/{second.id}/close", headers=ADMIN)
    assert (await until(lambda: _current_title(client, "first")))
    config = (await client.get("/api/config")).json()
    assert config["spectator_poll_ms"] == 5000 and config["afk_after_ms"] == 120_000
    assert config["current_canvas"] is not None


async def _current(http, canvas_id):
    response = await http.get("/api/canvas/current")
    return response.json() if response.status_code == 200 and \
        response.json()["id"] == str(canvas_id) else None


async def _current_title(http, title):
    response = await http.get("/api/canvas/current")
    return response.status_code == 200 and response.json()["title"] == title
