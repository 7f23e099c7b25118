import asyncio
from pathlib import Path

import nats

from api.app import build
from commands.actor import Actor
from commands.canvas.canvases import Canvases
from commands.canvas.wire import CreateCanvas, PlacePixel
from infra.settings import Settings
from infra.spine.eventstore import events_table
from infra.spine.publisher import LogPublisher, ensure_stream
from infra.spine.store_reader import StoreReader
from tests.integration.conftest import stop, until
from tests.integration.helpers import max_notification_id, published, stored_events
from tests.support.nats_server import start_nats
from tests.support.ports import free_port

PALETTE = ["#ffffff", "#000000"]
ADMIN = Actor("root", is_admin=True)


async def place_many(canvases: Canvases, canvas_id, count: int, start: int = 0) -> None:
    await asyncio.gather(
        *(canvases.execute(canvas_id, ADMIN, PlacePixel(x=i % 50, y=0, colour=i % 2))
          for i in range(start, start + count))
    )


async def a_canvas(parts):
    return await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas, CreateCanvas(width=50, height=1, palette=PALETTE)
    )


def a_publisher(settings: Settings, parts, js) -> LogPublisher:
    table = events_table(Canvases.name)
    return LogPublisher(
        context="canvas",
        store=StoreReader(parts.pool, settings.schema, table),
        channel=table,
        database_url=settings.database_url,
        js=js,
        stream=settings.events_stream,
        subject_prefix=f"{settings.stream_prefix}.ev.canvas",
        ack_timeout=2.0,
    )


async def assert_stream_equals_store(js, settings: Settings) -> None:
    stored = [row["notification_id"] for row in await stored_events(settings)]
    assert [event.notification_id for event in await published(js, settings)] == stored


async def test_the_stream_carries_every_event_once_in_commit_order(settings: Settings):
    parts = await build(settings)
    try:
        canvas = await a_canvas(parts)
        await place_many(parts["canvas"].canvases, canvas.id, 500)
        last = await max_notification_id(settings)
        publisher = parts.publisher("canvas")
        await until(lambda: _at(publisher, last))
        await assert_stream_equals_store(parts.nc.jetstream(), settings)
    finally:
        await stop(parts)


async def test_a_restarted_relay_neither_skips_nor_repeats(settings: Settings):
    parts = await build(settings, roles={"api"})
    js = parts.nc.jetstream()
    try:
        canvas = await a_canvas(parts)
        await place_many(parts["canvas"].canvases, canvas.id, 200)
        first = a_publisher(settings, parts, js)
        await first.start()
        await until(lambda: _at(first, 201))
        await first.stop()
        await place_many(parts["canvas"].canvases, canvas.id, 200, start=200)
        second = a_publisher(settings, parts, js)
        await second.start()
        assert await second.published_position() >= 201
        await until(lambda: _at(second, 401))
        await second.stop()
        await assert_stream_equals_store(js, settings)
    finally:
        await stop(parts)


async def test_two_relays_of_one_context_publish_each_event_once(settings: Settings):
    """Two publishers of the canvas log at once (a failover overlapping, a misconfiguration): each
    page goes out only if the log's last message is the one its publisher knows of, so the loser
    of every race finds its place again instead of publishing a page twice."""
    parts = await build(settings, roles={"api"})
    js = parts.nc.jetstream()
    publishers = [a_publisher(settings, parts, js) for _ in range(2)]
    try:
        canvas = await a_canvas(parts)
        for publisher in publishers:
            await publisher.start()
        for round_ in range(8):
            await place_many(parts["canvas"].canvases, canvas.id, 60, start=round_ * 60)
            # Both woken at once, racing for the same pages.
            await asyncio.gather(*(publisher.publish_pending() for publisher in publishers))
        for publisher in publishers:
            await until(lambda publisher=publisher: _at(publisher, 481))
        assert sum(publisher.published for publisher in publishers) == 481
        await assert_stream_equals_store(js, settings)
    finally:
        for publisher in publishers:
            await publisher.stop()
        await stop(parts)


async def test_a_page_read_before_another_call_published_does_not_go_out_after_it(
    settings: Settings,
):
    """One publisher's two calls overlapping: the first reads its page, the second publishes
    the first 60 events meanwhile, and then the first's page (those 60 and one more) would
    repeat them after the second's message. It is refused and read again from the new place."""
    parts = await build(settings, roles={"api"})
    js = parts.nc.jetstream()
    publisher = a_publisher(settings, parts, js)
    try:
        canvas = await a_canvas(parts)
        await place_many(parts["canvas"].canvases, canvas.id, 59)
        read_page = publisher._store.page_after
        second_done = asyncio.Event()
        first_read = asyncio.Event()

        async def slow_first_read(conn, after, limit):
            page = await read_page(conn, after, limit)
            if not first_read.is_set():
                first_read.set()
                await second_done.wait()  # the page is now one the second call published
                page = await read_page(conn, after, limit)  # and an event more: 1..61
            return page

        publisher._store.page_after = slow_first_read  # type: ignore[method-assign]
        first = asyncio.create_task(publisher.publish_pending())
        await first_read.wait()
        await publisher.publish_pending()  # publishes 1..60
        await place_many(parts["canvas"].canvases, canvas.id, 1, start=59)
        second_done.set()
        await first
        assert publisher.published == 61
        await assert_stream_equals_store(js, settings)
    finally:
        await stop(parts)


async def test_the_stream_converges_after_nats_was_down(settings: Settings, tmp_path: Path):
    port = free_port()
    server = start_nats(port, tmp_path)
    parts = await build(settings, roles={"api"})
    nc = await nats.connect(
        f"nats://127.0.0.1:{port}", max_reconnect_attempts=-1, reconnect_time_wait=0.2,
        connect_timeout=5,
    )
    js = nc.jetstream()
    publisher = None
    try:
        await ensure_stream(js, settings.events_stream, [f"{settings.stream_prefix}.ev.>"])
        publisher = a_publisher(settings, parts, js)
        await publisher.start()
        canvas = await a_canvas(parts)
        await place_many(parts["canvas"].canvases, canvas.id, 300)
        await until(lambda: _at(publisher, 301))
        server.terminate()
        server.wait()
        await place_many(parts["canvas"].canvases, canvas.id, 300, start=300)  # acknowledged while NATS is down
        server = start_nats(port, tmp_path)
        await until(lambda: _at(publisher, 601), timeout=60)
        await assert_stream_equals_store(js, settings)
    finally:
        if publisher is not None:
            await publisher.stop()
        await nc.close()
        await stop(parts)
        server.terminate()
        server.wait()


async def _at(publisher: LogPublisher, position: int) -> bool:
    return publisher.position >= position


async def test_another_writer_in_the_stream_costs_a_round_trip_never_an_event(settings: Settings):
    parts = await build(settings, roles={"api"})
    js = parts.nc.jetstream()
    publisher = a_publisher(settings, parts, js)
    try:
        canvas = await a_canvas(parts)
        await publisher.start()
        for round_ in range(4):
            await place_many(parts["canvas"].canvases, canvas.id, 120, start=round_ * 120)
            # Someone else appends to the stream: the publisher's expected sequence is now wrong.
            await js.publish(f"{settings.stream_prefix}.ev.other.{round_}", b"x")
        await until(lambda: _at(publisher, 481))
        canvas_events = [e.notification_id for e in await published(js, settings)]
        assert canvas_events == [row["notification_id"] for row in await stored_events(settings)]
    finally:
        await publisher.stop()
        await stop(parts)
