"""The store reader's two forms of a page, on real PostgreSQL: columns say what rows say."""

from __future__ import annotations

import asyncio

from api.app import Node
from commands.actor import Actor
from commands.canvas.wire import ClearCanvas, CreateCanvas, FillRectangle, PlacePixel
from infra.spine.eventstore import events_table
from infra.spine.store_reader import StoreReader
from projections.canvas.bitmap import TOPIC_CLEARED, TOPIC_FILLED, TOPIC_PLACED, TOPICS

ADMIN = Actor("root", is_admin=True)
PALETTE = ["#000000", "#ffffff", "#ff0000", "#00ff00"]


async def test_columns_hold_the_rows_events_in_log_order_across_windows(parts: Node) -> None:
    canvases = parts["canvas"].canvases
    for round_ in range(2):  # two canvases, their events interleaved in the log
        ids = [
            (await asyncio.to_thread(
                canvases.create_canvas, CreateCanvas(width=9, height=9, palette=PALETTE)
            )).id
            for _ in range(2)
        ]
        for i in range(30):
            canvas_id = ids[i % 2] if i % 7 else ids[0]
            command = (
                FillRectangle(x=0, y=0, width=2, height=3, colour=1) if i == 11
                else ClearCanvas() if i == 23
                else PlacePixel(x=i % 9, y=(i + round_) % 9, colour=i % 4)
            )
            await canvases.execute(canvas_id, ADMIN, command)

    store = StoreReader(parts.spine.pool, parts.settings.schema, events_table("canvases"))
    for topics in (TOPICS, (TOPIC_PLACED, TOPIC_FILLED, TOPIC_CLEARED)):
        rows = [event async for page in store.read(0, topics=topics, page=13) for event in page]
        pages = [page async for page in store.read_columns(0, topics=topics, page=13)]
        assert len(pages) > 3  # windows of 13 ids
        from_columns = [page.event(i) for page in pages for i in range(len(page))]
        assert from_columns == rows
        assert len(rows) == (64 if topics == TOPICS else 60)  # 60: not the four Created
        # A run is one topic and one canvas, the page's events in order.
        for page in pages:
            covered = []
            for start, stop in page.runs():
                run = [page.event(i) for i in range(start, stop)]
                assert len({(e.topic, e.originator_id) for e in run}) == 1
                assert page.state_span(start, stop) == b"".join(e.state for e in run)
                covered += range(start, stop)
            assert covered == list(range(len(page)))


async def test_a_window_past_the_end_and_an_empty_log_read_nothing(parts: Node) -> None:
    store = StoreReader(parts.spine.pool, parts.settings.schema, events_table("canvases"))
    assert [page async for page in store.read_columns(0, topics=TOPICS)] == []
    newest = await store.max_notification_id()
    assert [page async for page in store.read_columns(newest, topics=TOPICS)] == []
