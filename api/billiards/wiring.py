"""The billiards context (Artel Billiards): the one place that builds its parts."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.billiards.clubs import ClubController, club_live
from api.billiards.controller import MatchController, TemplateController
from api.billiards.live import match_live
from api.billiards.pages import billiards_page
from api.billiards.parts import NAME, BilliardsParts, provide_billiards
from api.billiards.players import LeaderboardController, PlayersController, ReplayController
from api.billiards.stats_parts import StatsParts
from api.node import Projection, Spine
from commands.billiards.billiards import Billiards
from infra.billiards import players_view, views
from infra.billiards.hub import MatchHub
from infra.billiards.players_model import PlayersReadModel
from infra.billiards.queues import QueueKeeper
from infra.billiards.views import (
    MatchesReadModel,
    MatchesView,
    TemplatesReadModel,
    TemplatesView,
)
from infra.retry import connect_nats
from infra.spine.eventstore import application_env

log = logging.getLogger(__name__)


class BilliardsContext:
    name = NAME
    application = Billiards
    publish_gather_s = 0.005

    def __init__(self) -> None:
        self._parts: BilliardsParts | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await views.migrate(conn, schema)
        await players_view.migrate(conn, schema)

    def projections(self, spine: Spine) -> list[Projection]:
        linger_s = spine.settings.projection_linger_ms / 1000
        schema = spine.settings.schema
        return [
            Projection(
                MatchesReadModel(MatchesView(spine.pool, schema)),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
            Projection(
                TemplatesReadModel(TemplatesView(spine.pool, schema)),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
            Projection(
                PlayersReadModel(
                    spine.pool, schema, season_months=spine.settings.billiards.season_months
                ),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
        ]

    async def start(self, spine: Spine) -> BilliardsParts:
        settings = spine.settings
        app = await asyncio.to_thread(
            Billiards,
            application_env(settings),
            linger_s=settings.billiards.writer_linger_ms / 1000,
            max_batch=settings.writer_max_batch,
            confirm_s=settings.billiards.confirm_s,
            match_minutes=settings.billiards.match_minutes,
        )
        hub = MatchHub(
            app,
            await connect_nats(
                settings.nats_url or "", "tessera-billiards-frames", log, no_echo=True
            ),
            prefix=settings.stream_prefix,
            capacity=settings.live_queue_frames,
        )
        self._parts = BilliardsParts(
            app=app,
            hub=hub,
            boards=MatchesView(spine.pool, settings.schema),
            templates=TemplatesView(spine.pool, settings.schema),
            queues=QueueKeeper(app, hub),
            stats=StatsParts.build(spine.pool, settings.schema, settings.billiards.season_months),
        )
        return self._parts

    async def stop(self) -> None:
        parts = self._parts
        if parts is None:
            return
        await parts.queues.stop()
        await asyncio.to_thread(parts.app.stop_writers)
        await parts.hub.stop()
        await asyncio.to_thread(parts.app.close)

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[
                TemplateController, MatchController, ClubController, match_live, club_live,
                billiards_page, PlayersController, LeaderboardController, ReplayController,
            ],
            dependencies={"billiards": Provide(provide_billiards, sync_to_thread=False)},
        )
