"""The board at any version since creation, and at any moment, on real PostgreSQL and NATS:
the delta ring keeps a handful of versions, so older boards come from the history's keyframes
plus the events after them in the event store."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

import av
import msgspec
import numpy as np
import pytest

from commands.actor import Actor
from commands.canvas.wire import ClearCanvas, CreateCanvas, FillRectangle, PlacePixel
from commands.clock import utc_now
from infra.canvas.stream_frames import FrameRenderer
from projections.canvas.history import event_time
from tests.integration.conftest import until
from tests.integration.helpers import stored_events
from tests.support.cli import run

PALETTE = ["#ffffff", "#000000", "#ff0000", "#00ff00", "#0000ff"]
W, H = 9, 6
ADMIN = Actor("root", is_admin=True)
RAW = {"Accept-Encoding": "identity"}


def boards_from(rows) -> dict[int, list[int]]:
    """Every version's board, applying the stored events one by one (independent of `paint`)."""
    board = [0] * (W * H)
    boards = {}
    for row in rows:
        state = msgspec.msgpack.decode(row["state"])
        match row["topic"].rpartition(".")[2]:
            case "PixelPlaced":
                board[state["y"] * W + state["x"]] = state["colour"]
            case "RectangleFilled":
                for y in range(state["y"], state["y"] + state["height"]):
                    for x in range(state["x"], state["x"] + state["width"]):
                        board[y * W + x] = state["colour"]
            case "Cleared":
                board = [0] * (W * H)
        boards[row["originator_version"]] = list(board)
    return boards


async def a_history(node, seed: int, count: int = 60) -> uuid.UUID:
    """A canvas with placements, two fills and a clear in the middle."""
    canvases = node["canvas"].canvases
    canvas = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=W, height=H, palette=PALETTE, cooldown_ms=0)
    )
    rng = random.Random(seed)
    for i in range(count):
        if i == count // 3:
            await canvases.execute(canvas.id, ADMIN, FillRectangle(x=1, y=1, width=4, height=3,
                                                                   colour=2))
        elif i == count // 2:
            await canvases.execute(canvas.id, ADMIN, ClearCanvas())
        elif i == 2 * count // 3:
            await canvases.execute(canvas.id, ADMIN, FillRectangle(x=0, y=0, width=W, height=1,
                                                                   colour=4))
        else:
            await canvases.execute(canvas.id, ADMIN, PlacePixel(
                x=rng.randrange(W), y=rng.randrange(H), colour=rng.randrange(len(PALETTE))))
    return canvas.id


async def settled(node, canvas_id, version: int) -> None:
    async def caught_up() -> bool:
        meta = await node["canvas"].reads.view.find_canvas(canvas_id)
        kept = await node["canvas"].reads.view.oldest_version(canvas_id)
        return meta is not None and meta.version == version and (kept or 0) > 10
    await until(caught_up)


async def test_every_version_since_creation_is_served_equal_to_the_events_applied(history):
    node, client = history
    canvas_id = await a_history(node, seed=1)
    rows = await stored_events(node.settings, canvas_id)
    expected = boards_from(rows)
    last = rows[-1]["originator_version"]
    await settled(node, canvas_id, last)
    keyframes = await keyframe_versions(node, canvas_id)
    assert keyframes and keyframes == list(range(7, last + 1, 7))[: len(keyframes)]
    for version in range(1, last + 1):
        raw = await client.get(f"/api/canvas/{canvas_id}/snapshot/{version}", headers=RAW)
        assert raw.status_code == 200, (version, raw.text)
        assert list(raw.content) == expected[version], version
    png = await client.get(f"/api/canvas/{canvas_id}/snapshot/2/png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


async def keyframe_versions(node, canvas_id) -> list[int]:
    async def some() -> list[int]:
        rows = await node.pool.fetch(
            f'SELECT version FROM "{node.settings.schema}".canvas_keyframes '
            "WHERE canvas_id = $1 ORDER BY version", canvas_id)
        return [r["version"] for r in rows]
    return await until(some)


async def test_a_moment_redirects_to_the_version_current_then(history):
    node, client = history
    canvas_id = await a_history(node, seed=2, count=30)
    rows = await stored_events(node.settings, canvas_id)
    await settled(node, canvas_id, rows[-1]["originator_version"])
    times = [event_time(row["state"]) for row in rows]
    tick = timedelta(microseconds=1)

    async def version_at(moment) -> int:
        response = await client.get(f"/api/canvas/{canvas_id}/at",
                                    params={"t": moment.isoformat()})
        assert response.status_code == 307, response.text
        version = int(response.headers["X-Canvas-Version"])
        assert response.headers["location"] == f"/api/canvas/{canvas_id}/snapshot/{version}"
        return version

    for index in (0, 1, 6, 7, 8, 13, 14, 15, len(rows) - 1):
        version = index + 1
        # at its own time: this version, or a later one stamped with the very same time
        same = max(i + 1 for i, t in enumerate(times) if t == times[index])
        assert await version_at(times[index]) == same
        # a microsecond before it: the version before (or the last stamped earlier)
        if index > 0:
            before = max(i + 1 for i, t in enumerate(times) if t < times[index])
            assert await version_at(times[index] - tick) == before
        assert version <= same
    assert await version_at(utc_now()) == len(rows)
    png = await client.get(f"/api/canvas/{canvas_id}/at",
                           params={"t": times[3].isoformat(), "png": "true"})
    assert png.headers["location"].endswith("/png")


@pytest.mark.parametrize("t,status,error", [
    ("yesterday", 422, "invalid_time"),
    ("2026-13-01T00:00:00Z", 422, "invalid_time"),
    ("2000-01-01T00:00:00+00:00", 404, "before_canvas"),
    ("2999-01-01T00:00:00+00:00", 422, "time_in_future"),
])
async def test_bad_moments_get_a_json_4xx(history, t, status, error):
    node, client = history
    canvas_id = await a_history(node, seed=3, count=3)
    # (the canvas is known to its reads once the bitmap projection has seen it)
    await until(lambda: node["canvas"].reads.view.find_canvas(canvas_id))
    response = await client.get(f"/api/canvas/{canvas_id}/at", params={"t": t})
    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_unknown_canvases_and_future_versions_are_404(history):
    node, client = history
    canvas_id = await a_history(node, seed=4, count=3)
    await until(lambda: node["canvas"].reads.view.find_canvas(canvas_id))  # projected, if behind
    unknown = await client.get(f"/api/canvas/{uuid.uuid4()}/at", params={"t": "2026-01-01"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "canvas_not_found")
    future = await client.get(f"/api/canvas/{canvas_id}/snapshot/999")
    assert (future.status_code, future.json()["error"]) == (404, "version_not_found")
    missing = await client.get(f"/api/canvas/{canvas_id}/at")
    assert missing.status_code == 400 and "error" in missing.json()


def maps_from(rows, start: int, end: int):
    """Paintings per pixel in (start, end], and the last painting version up to `end`."""
    heat, touched = [0] * (W * H), [0] * (W * H)
    for row in rows:
        version = row["originator_version"]
        if version > end:
            break
        state = msgspec.msgpack.decode(row["state"])
        match row["topic"].rpartition(".")[2]:
            case "PixelPlaced":
                cells = [state["y"] * W + state["x"]]
            case "RectangleFilled":
                cells = [y * W + x for y in range(state["y"], state["y"] + state["height"])
                         for x in range(state["x"], state["x"] + state["width"])]
            case _:
                cells = []
        for cell in cells:
            if version > start:
                heat[cell] += 1
            touched[cell] = version
    return heat, touched


async def test_maps_over_any_range_equal_the_events_counted(history):
    node, client = history
    canvas_id = await a_history(node, seed=5, count=45)
    rows = await stored_events(node.settings, canvas_id)
    last = rows[-1]["originator_version"]
    await settled(node, canvas_id, last)
    await keyframe_versions(node, canvas_id)
    for start, end in ((0, last), (3, 17), (7, 14), (15, last), (20, 20)):
        heat, touched = maps_from(rows, start, end)
        raw = await client.get(f"/api/canvas/{canvas_id}/maps/heat",
                               params={"from": start, "to": end, "format": "raw"})
        assert raw.status_code == 200, raw.text
        served = np.frombuffer(raw.content, dtype="<u4")
        assert served.tolist() == heat, (start, end)
        in_range = [r for r in rows if start < r["originator_version"] <= end]
        placed = sum(r["topic"].endswith("PixelPlaced") for r in in_range)
        filled = sum(s["width"] * s["height"] for s in (
            msgspec.msgpack.decode(r["state"]) for r in in_range
            if r["topic"].endswith("RectangleFilled")))
        assert int(served.sum()) == placed + filled  # one a placement, a fill its area
        virgin = await client.get(f"/api/canvas/{canvas_id}/maps/virgin",
                                  params={"to": end, "format": "raw"})
        assert list(virgin.content) == [int(t == 0) for t in touched]
        age = await client.get(f"/api/canvas/{canvas_id}/maps/age",
                               params={"to": end, "format": "raw"})
        assert np.frombuffer(age.content, dtype="<u4").tolist() == [
            end - t if t else 0xFFFFFFFF for t in touched]
    for kind in ("heat", "virgin", "age"):
        png = await client.get(f"/api/canvas/{canvas_id}/maps/{kind}")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    for path, params in (("heat", {"from": 30, "to": 10}), ("heat", {"to": last + 1}),
                         ("nope", {}), ("heat", {"format": "tiff"})):
        bad = await client.get(f"/api/canvas/{canvas_id}/maps/{path}", params=params)
        assert (bad.status_code, bad.json()["error"]) == (422, "invalid_map"), (path, params)


async def test_placement_counts_per_colour_hour_and_user_equal_the_events(history):
    node, client = history
    canvas_id = await a_history(node, seed=6, count=40)
    rows = await stored_events(node.settings, canvas_id)
    placed = [msgspec.msgpack.decode(r["state"]) for r in rows
              if r["topic"].endswith("PixelPlaced")]

    async def counted():
        body = (await client.get(f"/api/canvas/{canvas_id}/stats", params={"top": 3})).json()
        return body if body["placements"] == len(placed) else None
    stats = await until(counted)
    by_colour = {}
    for p in placed:
        by_colour[p["colour"]] = by_colour.get(p["colour"], 0) + 1
    assert {c["colour"]: c["placements"] for c in stats["colours"]} == by_colour
    assert sum(h["placements"] for h in stats["hours"]) == len(placed)
    assert stats["top_placers"] == [{"user": "root", "placements": len(placed)}]
    mine = (await client.get(f"/api/canvas/{canvas_id}/stats/users/root")).json()
    assert mine["placements"] == len(placed)
    later = await client.get(f"/api/canvas/{canvas_id}/stats",
                             params={"from": "2999-01-01T00:00:00Z"})
    assert later.json()["placements"] == 0
    bad = await client.get(f"/api/canvas/{canvas_id}/stats", params={"from": "soon"})
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_time")


async def test_a_replay_ends_on_the_board_of_the_version_asked_for(history, tmp_path):
    node, _ = history
    canvas_id = await a_history(node, seed=8, count=40)
    rows = await stored_events(node.settings, canvas_id)
    expected = boards_from(rows)
    until = 25
    out = tmp_path / "replay.flv"
    done = await asyncio.to_thread(
        run, node.settings, tmp_path, "replay", "--canvas", str(canvas_id), "--from", "3",
        "--until", str(until), "--speed", "1000", "--output", str(out), "--width", "640",
        "--height", "360", "--fps", "10")
    assert done.returncode == 0, done.stdout
    assert f"replayed versions 3 to {until}" in done.stdout
    with av.open(str(out)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) >= 10
    shown = FrameRenderer(W, H, PALETTE, width=640, height=360).expected_board(frames[-1])
    assert shown.tolist() == expected[until]
    bad = await asyncio.to_thread(run, node.settings, tmp_path, "replay", "--canvas",
                                  str(canvas_id), "--until", "soon", "--output", str(out))
    assert bad.returncode == 2 and "notification id or an ISO time" in bad.stdout
