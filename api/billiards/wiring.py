"""The billiards context (Artel Billiards): the one place that builds its parts."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.billiards.bot import BilliardsBot
from api.billiards.clubs import ClubController, club_live
from api.billiards.controller import MatchController, TemplateController
from api.billiards.friends import FriendController, MeController
from api.billiards.groups import GroupController
from api.billiards.live import match_live
from api.billiards.pages import billiards_page
from api.billiards.parts import NAME, BilliardsParts, provide_billiards
from api.billiards.players import LeaderboardController, PlayersController, ReplayController
from api.billiards.qr import qr_code
from api.billiards.seams import changes_on, ranks_on
from api.billiards.social_parts import RankPlayers, SocialParts
from api.billiards.stats_parts import StatsParts
from api.node import Gauge, Projection, Spine
from commands.billiards.billiards import Billiards
from commands.billiards.social import Social
from infra.billiards import outbox, players_view, social_views, views
from infra.billiards.hub import MatchHub
from infra.billiards.notifier import Notifier, RatingChange
from infra.billiards.outbox import OutboxReadModel, OutboxView
from infra.billiards.players_model import PlayersReadModel
from infra.billiards.players_reads import PlayersView
from infra.billiards.queues import QueueKeeper
from infra.billiards.social_views import SocialReadModel, SocialView
from infra.billiards.views import (
    MatchesReadModel,
    MatchesView,
    TemplatesReadModel,
    TemplatesView,
)
from infra.botapi import BotApi
from infra.retry import connect_nats
from infra.spine.eventstore import application_env

log = logging.getLogger(__name__)


class BilliardsContext:
    name = NAME
    application = Billiards
    publish_gather_s = 0.005

    def __init__(
        self,
        *,
        rank_players: RankPlayers | None = None,
        rating_change: RatingChange | None = None,
    ) -> None:
        """`rank_players(accounts)` for the group and friends leaderboards and
        `rating_change(match_id, player_id)` for the result notices: the players read model's
        (`api.billiards.seams`) unless given."""
        self._parts: BilliardsParts | None = None
        self.rank_players = rank_players
        self.rating_change = rating_change

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await views.migrate(conn, schema)
        await players_view.migrate(conn, schema)
        await social_views.migrate(conn, schema)
        await outbox.migrate(conn, schema)

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
            Projection(
                SocialReadModel(SocialView(spine.pool, schema)),
                linger_s=linger_s,
                fetch_timeout_s=linger_s,
            ),
            Projection(self._outbox(spine), linger_s=linger_s, fetch_timeout_s=linger_s),
        ]

    def _outbox(self, spine: Spine) -> OutboxReadModel:
        """The notification outbox; where it runs, its sender runs (with a bot token)."""
        settings = spine.settings
        view = OutboxView(spine.pool, settings.schema)
        token = settings.telegram.bot_token
        if not (settings.billiards.notify and token):
            return OutboxReadModel(view)
        notifier = Notifier(
            spine.pool,
            settings.schema,
            lambda: BotApi(token=token, base_url=settings.telegram.api_url),
            base_url=settings.billiards.web_app_url,
            rating_change=self.rating_change
            or changes_on(PlayersView(spine.pool, settings.schema)),
            rate_per_s=settings.billiards.notify_rate_per_s,
            chat_interval_s=settings.billiards.notify_chat_interval_s,
        )
        return OutboxReadModel(view, notifier)

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
        stats = StatsParts.build(spine.pool, settings.schema, settings.billiards.season_months)
        self._parts = BilliardsParts(
            app=app,
            hub=hub,
            boards=MatchesView(spine.pool, settings.schema),
            templates=TemplatesView(spine.pool, settings.schema),
            queues=QueueKeeper(app, hub),
            stats=stats,
            social=SocialParts(
                social=Social(app),
                view=SocialView(spine.pool, settings.schema),
                outbox=OutboxView(spine.pool, settings.schema),
                telegram_bot_token=settings.telegram.bot_token,
                telegram_max_age_s=settings.telegram.auth_max_age_s,
                bot=BilliardsBot(spine.pool, settings.schema, app, settings.billiards.web_app_url),
                rank_players=self.rank_players or ranks_on(stats.players),
            ),
        )
        return self._parts

    def gauges(self) -> dict[str, Gauge]:
        if self._parts is None:
            return {}
        waiting = self._parts.app.waiting_for_tables()
        return {
            "billiards_queue_length": Gauge(
                "Players waiting for a table in the clubs this node's writer holds.", waiting
            ),
        }

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
                MeController, FriendController, GroupController, qr_code,
            ],
            dependencies={"billiards": Provide(provide_billiards, sync_to_thread=False)},
        )
