"""Timelapse jobs on real PostgreSQL and NATS: the same parameters give the same job, the file's
frame count and size are as asked, its first and last frames show the boards at those versions,
ranges are served, and bad parameters get a clear 4xx."""

from __future__ import annotations

import asyncio
import io
import uuid

import av
import httpx
import msgspec
import numpy as np
import pytest

from api.app import build, create_app
from commands.actor import Actor
from commands.canvas.wire import ClearCanvas, CreateCanvas, PlacePixel
from infra.canvas.stream_frames import palette_rgb
from tests.integration.conftest import stop, until
from tests.integration.helpers import stored_events

PALETTE = ["#ffffff", "#000000", "#e50000", "#0000ea"]
W, H = 16, 12
ADMIN = Actor("root", is_admin=True)


@pytest.fixture
async def lapse(make_settings, tmp_path):
    settings = await make_settings(history={"keyframe_every": 25}, data_dir=tmp_path)
    node = await build(settings)
    canvases = node["canvas"].canvases
    canvas = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=W, height=H, palette=PALETTE, cooldown_ms=0))
    rng = np.random.default_rng(7)
    for i in range(120):
        if i == 60:
            await canvases.execute(canvas.id, ADMIN, ClearCanvas())
        await canvases.execute(canvas.id, ADMIN, PlacePixel(
            x=int(rng.integers(W)), y=int(rng.integers(H)), colour=int(rng.integers(1, 4))))
    rows = await stored_events(settings, canvas.id)
    last = rows[-1]["originator_version"]

    async def projected() -> bool:
        meta = await node["canvas"].reads.view.find_canvas(canvas.id)
        return meta is not None and meta.version == last
    await until(projected)
    transport = httpx.ASGITransport(app=create_app(settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client, canvas.id, boards(rows)
    await stop(node)


def boards(rows) -> dict[int, np.ndarray]:
    board = np.zeros(W * H, dtype=np.uint8)
    out = {}
    for row in rows:
        state = msgspec.msgpack.decode(row["state"], ext_hook=lambda c, d: None)
        if row["topic"].endswith("PixelPlaced"):
            board[state["y"] * W + state["x"]] = state["colour"]
        elif row["topic"].endswith("Cleared"):
            board[:] = 0
        out[row["originator_version"]] = board.copy()
    return out


def read_back(frame: np.ndarray, scale: int) -> np.ndarray:
    """The board a frame shows: each block's centre, to the nearest palette colour."""
    centres = frame[scale // 2 :: scale, scale // 2 :: scale][:H, :W].astype(int)
    colours = palette_rgb(PALETTE)[: len(PALETTE)].astype(int)
    return ((centres[:, :, None, :] - colours[None, None]) ** 2).sum(3).argmin(2).ravel()


async def finished(client, canvas_id, job: str) -> dict:
    async def done():
        body = (await client.get(f"/api/canvas/{canvas_id}/timelapse/{job}")).json()
        assert body["status"] != "failed", body
        return body if body["status"] == "done" else None
    return await until(done, timeout=120)


@pytest.mark.parametrize("form,scale", [("gif", 4), ("mp4", 8), ("webm", 8)])
async def test_a_timelapse_has_the_frames_size_and_boards_asked_for(lapse, form, scale):
    client, canvas_id, expected = lapse
    last = max(expected)
    asked = {"from": 1, "to": last, "fps": 10, "seconds": 2, "scale": scale, "format": form}
    started = await client.post(f"/api/canvas/{canvas_id}/timelapse", json=asked)
    assert started.status_code == 202, started.text
    again = await client.post(f"/api/canvas/{canvas_id}/timelapse", json=asked)
    assert again.json()["job"] == started.json()["job"]
    job = await finished(client, canvas_id, started.json()["job"])
    assert job["progress"] == 1.0 and job["frames"] == 20
    video = await client.get(job["url"])
    assert video.status_code == 200 and video.headers["accept-ranges"] == "bytes"
    with av.open(io.BytesIO(video.content)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 20
    assert frames[0].shape == (H * scale, W * scale, 3)
    assert np.array_equal(read_back(frames[0], scale), expected[1])
    assert np.array_equal(read_back(frames[-1], scale), expected[last])
    middle = 1 + (10 * (last - 1)) // 19  # frame 10's version
    assert np.array_equal(read_back(frames[10], scale), expected[middle])


async def test_ranges_of_a_timelapse_are_served(lapse):
    client, canvas_id, expected = lapse
    started = await client.post(f"/api/canvas/{canvas_id}/timelapse",
                                json={"versions_per_frame": 10, "fps": 5, "format": "gif"})
    job = await finished(client, canvas_id, started.json()["job"])
    assert job["frames"] == -(-(max(expected) - 1) // 10) + 1
    whole = (await client.get(job["url"])).content
    part = await client.get(job["url"], headers={"Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == whole[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(whole)}"
    tail = await client.get(job["url"], headers={"Range": "bytes=-16"})
    assert tail.content == whole[-16:]
    bad = await client.get(job["url"], headers={"Range": f"bytes={len(whole)}-"})
    assert (bad.status_code, bad.json()["error"]) == (416, "range_not_satisfiable")


BAD = [
    {"fps": 0}, {"fps": 500}, {"scale": 100}, {"scale": 0}, {"format": "avi"},
    {"from": 50, "to": 10}, {"to": 10**6}, {"from": 0},
    {"region": {"x": 10, "y": 0, "width": 10, "height": 5}},
    {"region": {"x": -1, "y": 0, "width": 2, "height": 2}},
    {"seconds": 100000}, {"from": "2000-01-01T00:00:00Z"},
]


async def test_bad_timelapses_get_a_clear_422(lapse):
    client, canvas_id, _ = lapse
    for asked in BAD:
        response = await client.post(f"/api/canvas/{canvas_id}/timelapse", json=asked)
        assert (response.status_code, response.json()["error"]) == (422, "invalid_timelapse"), \
            asked
    unknown = await client.post(f"/api/canvas/{uuid.uuid4()}/timelapse", json={})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "canvas_not_found")
    job = await client.get(f"/api/canvas/{canvas_id}/timelapse/tl-nope")
    assert job.status_code == 404
    wrong = await client.post(f"/api/canvas/{canvas_id}/timelapse", json={"fps": "fast"})
    assert wrong.status_code == 400
