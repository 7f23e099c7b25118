"""The current game as open pages ask for it, and a canvas as its sockets and catch-ups ask for
it: one query answers everyone asking at once."""

import asyncio
from uuid import UUID, uuid4

import pytest

from api.canvas.controller import CanvasReads
from api.errors import ApiError
from projections.canvas.bitmap import CanvasMeta
from tests.support.fakes import InMemoryPixelOwners


def a_meta(title: str = "Spring") -> CanvasMeta:
    return CanvasMeta(uuid4(), title, 8, 8, ["#ffffff", "#000000"], 0, True, 1, 3)


class GatedView:
    """A canvas view whose `get_current` answers only once the test lets it."""

    def __init__(self, current: CanvasMeta | None) -> None:
        self.current = current
        self.failure: Exception | None = None
        self.asked = 0
        self.gate = asyncio.Event()

    async def find_current(self) -> CanvasMeta | None:
        self.asked += 1
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        return self.current

    async def find_canvas(self, canvas_id: UUID) -> CanvasMeta | None:
        current = await self.find_current()
        return current if current is not None and current.canvas_id == canvas_id else None


def reads_over(view: GatedView, *, ttl: float) -> CanvasReads:
    return CanvasReads(view, InMemoryPixelOwners(), latest_ttl=ttl)


async def test_pages_asking_at_once_share_one_query():
    meta = a_meta()
    view = GatedView(meta)
    reads = reads_over(view, ttl=60)
    asking = [asyncio.ensure_future(reads.find_current()) for _ in range(50)]
    await asyncio.sleep(0)  # let every asker reach the query in flight
    view.gate.set()
    answers = await asyncio.gather(*asking)
    assert answers == [meta] * 50
    assert view.asked == 1


async def test_the_current_game_is_kept_for_the_cache_time():
    view = GatedView(a_meta())
    view.gate.set()
    reads = reads_over(view, ttl=60)
    first = await reads.find_current()
    view.current = a_meta("Summer")
    assert await reads.find_current() == first
    assert view.asked == 1


async def test_a_new_game_is_seen_once_the_cache_time_passed():
    view = GatedView(None)
    view.gate.set()
    reads = reads_over(view, ttl=0)
    assert await reads.find_current() is None
    summer = a_meta("Summer")
    view.current = summer
    assert await reads.find_current() == summer


async def test_a_failed_query_is_not_kept():
    view = GatedView(a_meta())
    view.gate.set()
    view.failure = ConnectionError("the database went away")
    reads = reads_over(view, ttl=60)
    with pytest.raises(ConnectionError):
        await reads.find_current()

    view.failure = None

    assert await reads.find_current() == view.current


async def test_sockets_opening_at_once_share_one_query_for_their_canvas():
    meta = a_meta()
    view = GatedView(meta)
    reads = reads_over(view, ttl=60)
    asking = [asyncio.ensure_future(reads.get_canvas(meta.canvas_id)) for _ in range(200)]
    await asyncio.sleep(0)
    view.gate.set()
    assert await asyncio.gather(*asking) == [meta] * 200
    assert view.asked == 1
    assert await reads.get_canvas(meta.canvas_id) == meta  # kept for the cache time
    assert view.asked == 1
    await reads.get_canvas(meta.canvas_id, fresh=True)  # asked anew, whatever is cached
    assert view.asked == 2


async def test_a_canvas_that_is_not_there_is_refused_and_asked_about_again():
    view = GatedView(None)
    view.gate.set()
    reads = reads_over(view, ttl=60)
    missing = uuid4()
    with pytest.raises(ApiError) as refused:
        await reads.get_canvas(missing)
    assert refused.value.code == "canvas_not_found"
    with pytest.raises(ApiError):
        await reads.get_canvas(missing)
    assert view.asked == 2  # an absence is not kept: a canvas made meanwhile is found
