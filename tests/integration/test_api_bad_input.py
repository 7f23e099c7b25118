import asyncio
import uuid

import httpx
import pytest

from api.app import Node, build, create_app
from commands.actor import Actor
from commands.canvas.wire import CreateCanvas, PlacePixel
from tests.integration.conftest import stop, until
from tests.integration.helpers import max_notification_id

PALETTE = ["#ffffff", "#000000", "#ff0000"]
PLAYER = {"X-Dev-User": "ann"}
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}


@pytest.fixture
async def canvas_id(parts: Node):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=10, height=10, palette=PALETTE, cooldown_ms=60_000),
    )
    return canvas.id


@pytest.mark.parametrize(
    "body,headers,status,error",
    [
        ({"x": 10, "y": 0, "colour": 1}, PLAYER, 422, "out_of_bounds"),
        ({"x": 0, "y": 0, "colour": 3}, PLAYER, 422, "unknown_colour"),
        ({"x": -1, "y": 0, "colour": 1}, PLAYER, 400, "invalid_request"),
        ({"x": "a", "y": 0, "colour": 1}, PLAYER, 400, "invalid_request"),
        ({"x": 0, "y": 0}, PLAYER, 400, "invalid_request"),
        ({"x": 0, "y": 0, "colour": 1, "extra": 1}, PLAYER, 400, "invalid_request"),
        (b"{not json", PLAYER, 400, "bad_request"),
        (b"[" * 200_000, PLAYER, 413, "body_too_large"),
        ({"x": 0, "y": 0, "colour": 1}, {}, 401, "unauthenticated"),
        ({"x": 0, "y": 0, "colour": 1}, {"X-Dev-User": "bad user!"}, 400, "invalid_identity"),
    ],
)
async def test_bad_placements_get_a_json_error_and_append_nothing(
    parts: Node, client, canvas_id, body, headers, status, error
):
    before = await max_notification_id(parts.settings)
    if isinstance(body, bytes):
        response = await client.post(
            f"/api/canvas/{canvas_id}/pixels", content=body,
            headers=headers | {"content-type": "application/json"},
        )
    else:
        response = await client.post(f"/api/canvas/{canvas_id}/pixels", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert await max_notification_id(parts.settings) == before


async def test_an_unknown_canvas_is_a_404(client):
    response = await client.post(f"/api/canvas/{uuid.uuid4()}/pixels", headers=PLAYER,
                                 json={"x": 0, "y": 0, "colour": 1})
    assert (response.status_code, response.json()["error"]) == (404, "canvas_not_found")
    response = await client.get(f"/api/canvas/{uuid.uuid4()}")
    assert response.status_code == 404


async def test_a_placement_within_the_cooldown_is_429_with_retry_after(parts: Node, client,
                                                                      canvas_id):
    first = await client.post(f"/api/canvas/{canvas_id}/pixels", headers=PLAYER,
                              json={"x": 1, "y": 1, "colour": 1, "op": "first"})
    assert first.status_code == 200 and first.json()["version"] == 2
    retried = await client.post(f"/api/canvas/{canvas_id}/pixels", headers=PLAYER,
                                json={"x": 1, "y": 1, "colour": 1, "op": "first"})
    assert retried.json() == {"version": 2, "replayed": True}
    too_soon = await client.post(f"/api/canvas/{canvas_id}/pixels", headers=PLAYER,
                                 json={"x": 2, "y": 1, "colour": 1})
    assert too_soon.status_code == 429
    assert too_soon.json()["error"] == "cooldown" and too_soon.json()["wait_ms"] > 0
    assert int(too_soon.headers["retry-after"]) >= 1


async def test_only_admins_create_fill_and_clear(client, canvas_id):
    spec = {"width": 8, "height": 8, "palette": PALETTE}
    assert (await client.post("/api/canvas", json=spec, headers=PLAYER)).status_code == 403
    created = await client.post("/api/canvas", json=spec, headers=ADMIN)
    assert created.status_code == 201 and created.json()["version"] == 1
    fill = {"x": 0, "y": 0, "width": 2, "height": 2, "colour": 1}
    assert (await client.post(f"/api/canvas/{canvas_id}/fill", json=fill,
                              headers=PLAYER)).status_code == 403
    assert (await client.post(f"/api/canvas/{canvas_id}/fill", json=fill,
                              headers=ADMIN)).json()["version"] == 2
    assert (await client.post(f"/api/canvas/{canvas_id}/clear", headers=ADMIN)).status_code == 200


async def test_a_bad_canvas_spec_is_refused(client):
    bad = {"width": 8, "height": 8, "palette": ["red", "blue"]}
    response = await client.post("/api/canvas", json=bad, headers=ADMIN)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_a_closed_canvas_answers_409(client, canvas_id):
    await client.post(f"/api/canvas/{canvas_id}/close", headers=ADMIN)
    response = await client.post(f"/api/canvas/{canvas_id}/pixels", headers=PLAYER,
                                 json={"x": 0, "y": 0, "colour": 1})
    assert (response.status_code, response.json()["error"]) == (409, "canvas_closed")


async def test_versions_that_left_the_ring_are_410_gone(make_settings):
    settings = await make_settings(canvas={"delta_ring": 10, "snapshot_every": 20})
    parts = await build(settings)
    try:
        canvas = await asyncio.to_thread(
            parts["canvas"].canvases.create_canvas, CreateCanvas(width=10, height=10, palette=PALETTE)
        )
        admin = Actor("root", is_admin=True)
        for i in range(60):
            await parts["canvas"].canvases.execute(canvas.id, admin, PlacePixel(x=i % 10, y=0, colour=1))
        transport = httpx.ASGITransport(app=create_app(settings, node=parts))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async def settled() -> bool:
                """Every placement projected: the ring no longer moves under the requests."""
                view = parts["canvas"].reads.view
                meta = await view.find_canvas(canvas.id)
                return meta is not None and meta.version == 61 and (
                    await view.oldest_version(canvas.id) or 0
                ) > 5
            await until(settled)
            gone = await client.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 2})
            assert gone.status_code == 410
            oldest = gone.json()["oldest_version"]
            assert oldest > 2
            fine = await client.get(f"/api/canvas/{canvas.id}/deltas", params={"since": oldest})
            assert fine.status_code == 200
            future = await client.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 10**6})
            assert (future.status_code, future.json()["error"]) == (422, "version_in_future")
    finally:
        await stop(parts)
