"""`tessera stream`: the stream renderer as a process of its own, on the shared PostgreSQL and
NATS. Several run at once for other canvases or outputs; each reports once every 10 s."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from uuid import UUID

import asyncpg

from infra.canvas.board_follower import BoardFollower
from infra.canvas.presence import Presence
from infra.canvas.stream import Output, StreamRenderer, StreamStats
from infra.canvas.view import CanvasView
from infra.retry import connect_nats
from infra.settings import Settings

log = logging.getLogger(__name__)

REPORT_S = 10.0


async def stream_canvas(
    settings: Settings,
    canvas_id: UUID,
    output: str,
    stop: asyncio.Event,
    *,
    width: int = 1280,
    height: int = 720,
    fps: int = 30,
    preset: str = "veryfast",
    seconds: float | None = None,
) -> StreamStats:
    """Stream one canvas until `stop` is set (or for `seconds`)."""
    target = Output.parse(output, key=settings.history.stream_key)
    assert settings.database_url is not None and settings.nats_url is not None
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    nc = await connect_nats(settings.nats_url, "tessera-stream", log)
    presence: Presence | None = None
    follower = BoardFollower(CanvasView(pool, settings.schema, ring=settings.canvas.delta_ring),
                             nc, settings.delta_subject(str(canvas_id)), canvas_id)
    try:
        presence = await Presence.open(
            nc.jetstream(), settings.presence_bucket, cap=settings.canvas.player_cap,
            window_ms=int(settings.canvas.afk_after_s * 1000))
        await presence.start()
        await follower.start()
        online = presence

        renderer = StreamRenderer(follower, target, width=width, height=height, fps=fps,
                                  preset=preset, players=lambda: online.counts(str(canvas_id))[0])
        if seconds is not None:
            asyncio.get_running_loop().call_later(seconds, stop.set)
        reporting = asyncio.create_task(_report(renderer, stop))
        try:
            return await renderer.run(stop)
        finally:
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
    finally:
        await follower.stop()
        if presence is not None:
            await presence.stop()
        await nc.close()
        await pool.close()


async def _report(renderer: StreamRenderer, stop: asyncio.Event) -> None:
    wall, cpu, frames = time.monotonic(), time.process_time(), 0
    while not stop.is_set():
        await asyncio.sleep(REPORT_S)
        now, used = time.monotonic(), time.process_time()
        stats = renderer.stats
        log.info(
            "stream %s: %.1f fps, %d late, v%d, %d resyncs, %d reconnects, CPU %.0f%% of a core",
            renderer.output.masked, (stats.frames - frames) / (now - wall), stats.late,
            renderer.follower.version, renderer.follower.resyncs, stats.failures,
            100 * (used - cpu) / (now - wall),
        )
        wall, cpu, frames = now, used, stats.frames
