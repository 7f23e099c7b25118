"""Reading what really got stored and published."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from infra.settings import Settings
from projections.recorded import Recorded, decode_page


class StoredPlacement(msgspec.Struct):
    x: int
    y: int
    colour: int
    user: str
    op: str | None


async def stored_events(settings: Settings, canvas_id: UUID | None = None) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        where = "WHERE originator_id = $1" if canvas_id else ""
        args = [canvas_id] if canvas_id else []
        return await conn.fetch(
            f'SELECT notification_id, originator_id, originator_version, topic, state '
            f'FROM "{settings.schema}".canvases_events {where} ORDER BY notification_id',
            *args,
        )
    finally:
        await conn.close()


async def max_notification_id(settings: Settings) -> int:
    rows = await stored_events(settings)
    return rows[-1]["notification_id"] if rows else 0


async def published(js: JetStreamContext, settings: Settings) -> list[Recorded]:
    """Every canvas event in the stream (its pages unpacked), in stream order (an ephemeral consumer from the start)."""
    subscription = await js.pull_subscribe(
        f"{settings.stream_prefix}.ev.canvas.>",
        stream=settings.events_stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
    )
    events: list[Recorded] = []
    try:
        pending = (await subscription.consumer_info()).num_pending
        while pending:
            for message in await subscription.fetch(min(5000, pending), timeout=5):
                events.extend(decode_page(message.data))
                await message.ack()
                pending -= 1
    finally:
        await subscription.unsubscribe()
    return events
