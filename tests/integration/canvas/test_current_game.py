"""`GET /api/canvas/current` as open pages poll it to follow a new game: a 304 while it stays."""

import asyncio

from api.app import Node
from commands.canvas.wire import CreateCanvas
from tests.integration.conftest import until

PALETTE = ["#ffffff", "#000000"]


async def a_game(parts: Node, title: str):
    return await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=8, height=4, palette=PALETTE, cooldown_ms=0, title=title),
    )


async def current_is(http, canvas_id, **headers):
    response = await http.get("/api/canvas/current", headers=headers)
    return (
        response
        if response.status_code == 200 and response.json()["id"] == str(canvas_id)
        else None
    )


async def test_the_same_game_asked_again_by_its_etag_is_not_modified(client, parts: Node):
    spring = await a_game(parts, "Spring")
    answer = await until(lambda: current_is(client, spring.id))
    assert answer.headers["etag"] == f'W/"{spring.id}"'

    again = await client.get("/api/canvas/current", headers={"If-None-Match": f'W/"{spring.id}"'})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == f'W/"{spring.id}"'


async def test_a_new_game_answers_the_old_etag_in_full(client, parts: Node):
    spring = await a_game(parts, "Spring")
    await until(lambda: current_is(client, spring.id))

    summer = await a_game(parts, "Summer")

    old_etag = {"If-None-Match": f'W/"{spring.id}"'}
    answer = await until(lambda: current_is(client, summer.id, **old_etag))
    assert answer.json()["title"] == "Summer"
    assert answer.headers["etag"] == f'W/"{summer.id}"'


async def test_no_open_game_is_a_clear_404(client, parts: Node):
    response = await client.get("/api/canvas/current")
    assert response.status_code == 404
    assert response.json()["error"] == "no_current_canvas"
