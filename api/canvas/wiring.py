"""The canvas context (Pixel Wars): the one place that builds its parts."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.canvas.config import client_config, players_online
from api.canvas.controller import CanvasController
from api.canvas.history import HistoricalBoards, HistoryController
from api.canvas.live import canvas_live
from api.canvas.maps import MapsController
from api.canvas.pages import canvas_page, canvas_worker, index, replay_page
from api.canvas.parts import NAME, CanvasParts, provide_canvas, provide_reads
from api.canvas.reads import CanvasReads
from api.canvas.seats import SpectatorSeats
from api.canvas.stats import StatsController
from api.canvas.telegram_bot import TelegramBot
from api.canvas.timelapse import TimelapseController
from api.canvas.webhook import telegram_webhook
from api.node import Gauge, Projection, Spine
from commands.canvas.canvases import Canvases
from infra.blobs import BlobStore
from infra.botapi import BotApi
from infra.canvas import history_view, pixel_view, stats_view, timelapse
from infra.canvas import view as canvas_view
from infra.canvas.bitmap_model import BitmapReadModel
from infra.canvas.deltas import LIVE_DELTA_BUSY_SHARE, LIVE_DELTA_INTERVAL_S, coalesce
from infra.canvas.history_model import HistoryReadModel
from infra.canvas.history_view import HistoryView
from infra.canvas.pixel_view import PixelOwnersReadModel, PixelView
from infra.canvas.presence import Presence
from infra.canvas.stats_view import PlacementStatsReadModel, StatsView
from infra.canvas.timelapse import Timelapses
from infra.canvas.view import CanvasView
from infra.live.fanout import Fanout
from infra.spine.eventstore import application_env


class CanvasContext:
    name = NAME
    application = Canvases
    # Live deltas come from the bitmap projection, which waits for the log: publish at once.
    publish_gather_s = 0.005

    def __init__(self) -> None:
        self._parts: CanvasParts | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await canvas_view.migrate(conn, schema)
        await pixel_view.migrate(conn, schema)
        await history_view.migrate(conn, schema)
        await timelapse.migrate(conn, schema)
        await stats_view.migrate(conn, schema)

    def projections(self, spine: Spine) -> list[Projection]:
        settings = spine.settings
        bitmap = BitmapReadModel(
            CanvasView(spine.pool, settings.schema, ring=settings.canvas.delta_ring),
            spine.nc,
            delta_subject=settings.delta_subject,
            snapshot_every=settings.canvas.snapshot_every,
            snapshot_seconds=settings.canvas.snapshot_seconds,
        )
        linger_s = settings.projection_linger_ms / 1000
        return [
            # The bitmap publishes the live deltas: it takes what has arrived at once.
            Projection(
                bitmap, linger_s=0.0, fetch_timeout_s=settings.canvas.delta_interval_ms / 1000
            ),
            Projection(
                PixelOwnersReadModel(PixelView(spine.pool, settings.schema)),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
            Projection(
                HistoryReadModel(
                    HistoryView(spine.pool, settings.schema),
                    every=settings.history.keyframe_every,
                    maps_every=settings.history.maps_every,
                ),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
            Projection(
                PlacementStatsReadModel(spine.pool, settings.schema),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
        ]

    async def start(self, spine: Spine) -> CanvasParts:
        settings = spine.settings
        canvases = await asyncio.to_thread(
            Canvases,
            application_env(settings),
            linger_s=settings.canvas.writer_linger_ms / 1000,
            max_batch=settings.writer_max_batch,
            snapshot_every=settings.canvas.aggregate_snapshot_every,
        )
        view = CanvasView(spine.pool, settings.schema, ring=settings.canvas.delta_ring)
        history = HistoryView(spine.pool, settings.schema)
        presence = await Presence.open(
            spine.js,
            settings.presence_bucket,
            cap=settings.canvas.player_cap,
            window_ms=int(settings.canvas.afk_after_s * 1000),
            connected=lambda: spine.nc.is_connected,
        )
        self._parts = CanvasParts(
            settings=settings,
            canvases=canvases,
            reads=CanvasReads(
                HistoricalBoards(view, history),
                PixelView(spine.pool, settings.schema),
                latest_ttl=settings.canvas.latest_cache_seconds,
            ),
            fanout=Fanout(
                spine.nc,
                settings.delta_subject,
                context=NAME,
                capacity=settings.live_queue_frames,
                interval_s=LIVE_DELTA_INTERVAL_S,
                busy_share=LIVE_DELTA_BUSY_SHARE,
                merge=coalesce,
            ),
            presence=presence,
            telegram=TelegramBot(
                api=BotApi(token=settings.telegram.bot_token, base_url=settings.telegram.api_url),
                canvases=canvases,
                view=view,
                admin_chats=settings.split(settings.telegram.admin_chats),
                username=settings.telegram.bot_username,
                players=presence,
            ),
            spectators=SpectatorSeats(settings.canvas.live_spectators),
            timelapses=Timelapses(spine.pool, settings.schema, history,
                                  BlobStore(settings.data_dir / "blobs" / settings.schema)),
            stats=StatsView(spine.pool, settings.schema),
        )
        await presence.start()
        return self._parts

    async def stop(self) -> None:
        parts = self._parts
        if parts is None:
            return
        if parts.timelapses is not None:
            await parts.timelapses.stop()
        await asyncio.to_thread(parts.canvases.stop_writers)
        await parts.presence.stop()
        await asyncio.to_thread(parts.canvases.close)
        await parts.telegram.close()

    def gauges(self) -> dict[str, Gauge]:
        if self._parts is None:
            return {}
        players, waiting = self._parts.presence.totals()
        return {
            "canvas_players": Gauge("Players on the canvases this node follows.", players),
            "canvas_queue_length": Gauge("Users waiting for a place on those canvases.", waiting),
        }

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[
                CanvasController,
                HistoryController,
                TimelapseController,
                MapsController,
                StatsController,
                canvas_live,
                client_config,
                players_online,
                telegram_webhook,
                index,
                canvas_page,
                canvas_worker,
                replay_page,
            ],
            dependencies={
                "canvas": Provide(provide_canvas, sync_to_thread=False),
                "reads": Provide(provide_reads, sync_to_thread=False),
            },
        )
