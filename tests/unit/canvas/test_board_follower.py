"""The stream renderer's follower hands over the board rows its deltas changed: a copy of the
board kept from those rows alone is the board after every delta."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.canvas.board_follower import BoardFollower
from projections.canvas.bitmap import RESET, CanvasMeta, encode_delta
from tests.support.fakes import FakeNats, InMemoryCanvasView

W, H = 12, 9
SUBJECT = "deltas"

placements = st.tuples(st.integers(0, W - 1), st.integers(0, H - 1), st.integers(0, 31))
deltas = st.lists(st.one_of(st.lists(placements, min_size=1, max_size=6), st.just("reset")),
                  min_size=1, max_size=12)


async def a_follower() -> tuple[BoardFollower, FakeNats]:
    view = InMemoryCanvasView()
    canvas_id = uuid.uuid4()
    view.metas[canvas_id] = CanvasMeta(canvas_id, "t", W, H, ["#000000"] * 32, 0, True, 1, 0)
    nats = FakeNats()
    follower = BoardFollower(view, nats, SUBJECT, canvas_id)  # type: ignore[arg-type]
    await follower.start()
    return follower, nats


async def delivered(follower: BoardFollower, version: int) -> None:
    while follower.version < version:
        await asyncio.sleep(0)


@given(deltas, st.lists(st.booleans(), min_size=12, max_size=12))
@settings(max_examples=60, deadline=None)
def test_the_rows_taken_after_each_delta_rebuild_the_board(batches, takes):
    async def scenario() -> None:
        follower, nats = await a_follower()
        kept = np.full((H, W), 99, dtype=np.uint8)  # nothing the board holds
        try:
            for version, (batch, take) in enumerate(zip(batches, takes, strict=False), start=1):
                if batch == "reset":
                    entries = np.array([RESET], dtype="<u4")
                else:
                    entries = np.array([((y * W + x) << 5) | c for x, y, c in batch], dtype="<u4")
                await nats.publish(SUBJECT, encode_delta(version - 1, version, entries.tobytes()))
                await delivered(follower, version)
                if take or version == len(batches):
                    taken = follower.take_rows()
                    if taken is not None:
                        rows, pixels = taken
                        kept[rows] = pixels
                    assert np.array_equal(kept.ravel(), follower.board)
                    assert follower.take_rows() is None  # nothing changed since
        finally:
            await follower.stop()

    asyncio.run(scenario())
