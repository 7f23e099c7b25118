"""The composition root: the only place where the service's parts are built and wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from nats.aio.client import Client as NATS

from api.auth import Gate
from api.canvas.config import client_config
from api.canvas.controller import CanvasController, CanvasReads
from api.canvas.live import canvas_live
from api.canvas.pages import index
from api.canvas.telegram_bot import TelegramBot, telegram_webhook
from api.desk.controller import DeskController
from api.desk.live import desk_live
from api.desk.pages import desk_page, desk_start
from api.errors import EXCEPTION_HANDLERS
from api.feedback.controller import AdminFeedbackController, FeedbackController, feedback_page
from api.identity.controller import (
    AdminAccountsController,
    AuthController,
    IdentityParts,
    MeController,
    me_live,
    provide_identity,
    whoami,
)
from api.ratelimit import Limiter, per_ip
from api.web import static_files
from commands.canvas.canvases import Canvases
from commands.desk.desks import Desks
from commands.feedback.feedbacks import Feedbacks
from commands.identity.accounts import Accounts
from infra.botapi import BotApi
from infra.canvas.bitmap_model import BitmapReadModel
from infra.canvas.pixel_view import PixelOwnersReadModel, PixelView
from infra.canvas.presence import Presence
from infra.canvas.view import CanvasView
from infra.desk.hub import DeskHub
from infra.desk.keys import DeskSessionKeys
from infra.desk.lifecycle import DeskLifecycle
from infra.desk.view import DeskReadModel, DeskView
from infra.feedback.view import FeedbackReadModel, FeedbackView
from infra.identity.google import GoogleVerifier
from infra.identity.refresh_sessions import RefreshSessions, Revocations
from infra.identity.tokens import SigningKeys, TokenIssuer
from infra.identity.view import AccountsReadModel, AccountView
from infra.live.fanout import LIVE_DELTA_BUSY_SHARE, LIVE_DELTA_INTERVAL_S, Fanout, coalesce
from infra.retry import connect_nats
from infra.settings import Settings
from infra.spine.eventstore import application_env, events_table
from infra.spine.publisher import LogPublisher, ensure_stream
from infra.spine.runner import ProjectionRunner, ReadModel
from infra.spine.store_reader import StoreReader

log = logging.getLogger(__name__)

ALL_ROLES = frozenset({"api", "publisher", "projections"})


@dataclass
class Parts:
    """What a running node holds; handlers get the pieces they need by name."""

    settings: Settings
    pool: asyncpg.Pool
    nc: NATS
    canvases: Canvases
    reads: CanvasReads
    identity: IdentityParts
    fanout: Fanout
    presence: Presence
    feedback: Feedbacks
    feedback_view: FeedbackView
    telegram: TelegramBot
    desks: Desks
    desk_view: DeskView
    desk_hub: DeskHub
    desk_lifecycle: DeskLifecycle
    publishers: list[LogPublisher] = field(default_factory=list)
    runners: list[ProjectionRunner] = field(default_factory=list)

    def runner(self, name: str) -> ProjectionRunner:
        return next(runner for runner in self.runners if runner.model.name == name)

    def publisher(self, context: str) -> LogPublisher:
        return next(p for p in self.publishers if p.context == context)


def signing_keys(settings: Settings) -> SigningKeys:
    if settings.jwt_keys:
        return SigningKeys.parse(settings.jwt_keys)
    return SigningKeys.load_or_create(settings.data_dir / "jwt-keys.json")


async def build(settings: Settings, roles: Collection[str] = ALL_ROLES) -> Parts:
    assert settings.database_url and settings.nats_url, "resolve the service URLs first"
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=12)
    nc = await connect_nats(settings.nats_url, "tessera", log)
    js = nc.jetstream()
    await ensure_stream(js, settings.events_stream, [f"{settings.stream_prefix}.ev.>"])
    canvases = await asyncio.to_thread(
        Canvases,
        application_env(settings),
        linger_s=settings.writer_linger_ms / 1000,
        max_batch=settings.writer_max_batch,
        snapshot_every=settings.aggregate_snapshot_every,
    )
    accounts = await asyncio.to_thread(
        Accounts,
        application_env(settings),
        admin_identities=settings.split(settings.admin_identities),
    )
    sessions = RefreshSessions(
        pool,
        settings.schema,
        refresh_ttl=timedelta(seconds=settings.refresh_ttl_s),
        grace=timedelta(seconds=settings.refresh_grace_s),
    )
    revocations = Revocations(sessions, window=timedelta(seconds=settings.access_ttl_s + 60))
    await revocations.start()
    gate = Gate(
        settings,
        TokenIssuer(signing_keys(settings), access_ttl_s=settings.access_ttl_s),
        revocations,
        Limiter(settings.rate_account_per_s, settings.rate_account_burst),
    )
    canvas_view = CanvasView(pool, settings.schema, ring=settings.delta_ring)
    account_view = AccountView(pool, settings.schema)
    pixel_view = PixelView(pool, settings.schema)
    feedback_view = FeedbackView(pool, settings.schema)
    presence = await Presence.open(
        js,
        settings.presence_bucket,
        cap=settings.player_cap,
        window_ms=int(settings.afk_after_s * 1000),
    )
    desks = await asyncio.to_thread(
        Desks,
        application_env(settings),
        ttl_s=settings.desk_ttl_s,
        linger_s=settings.desk_writer_linger_ms / 1000,
        max_batch=settings.writer_max_batch,
    )
    desk_view = DeskView(pool, settings.schema)
    desk_hub = DeskHub(
        desks,
        desk_view,
        nc,
        await connect_nats(settings.nats_url, "tessera-desk-frames", log, no_echo=True),
        prefix=settings.stream_prefix,
        capacity=settings.live_queue_frames,
        ttl_s=settings.desk_ttl_s,
        session_keys=DeskSessionKeys.derive(signing_keys(settings)),
    )
    parts = Parts(
        settings=settings,
        pool=pool,
        nc=nc,
        canvases=canvases,
        reads=CanvasReads(canvas_view, pixel_view, latest_ttl=settings.latest_cache_seconds),
        fanout=Fanout(
            nc,
            settings.delta_subject,
            capacity=settings.live_queue_frames,
            interval_s=LIVE_DELTA_INTERVAL_S,
            busy_share=LIVE_DELTA_BUSY_SHARE,
            merge=coalesce,
        ),
        presence=presence,
        feedback=await asyncio.to_thread(Feedbacks, application_env(settings)),
        feedback_view=feedback_view,
        desks=desks,
        desk_view=desk_view,
        desk_hub=desk_hub,
        desk_lifecycle=DeskLifecycle(
            desks,
            desk_view,
            desk_hub,
            ttl_s=settings.desk_ttl_s,
            idle_session_s=settings.desk_idle_session_s,
            writer_idle_s=settings.desk_writer_idle_s,
        ),
        telegram=TelegramBot(
            api=BotApi(token=settings.telegram_bot_token, base_url=settings.telegram_api_url),
            canvases=canvases,
            view=canvas_view,
            admin_chats=settings.split(settings.telegram_admin_chats),
            username=settings.telegram_bot_username,
            players=presence,
        ),
        identity=IdentityParts(
            accounts=accounts,
            sessions=sessions,
            view=account_view,
            google=GoogleVerifier(
                jwks_url=settings.google_jwks_url,
                client_ids=settings.split(settings.google_client_ids),
            ),
            gate=gate,
        ),
    )
    bitmap = BitmapReadModel(
        canvas_view,
        nc,
        delta_subject=settings.delta_subject,
        snapshot_every=settings.snapshot_every,
        snapshot_seconds=settings.snapshot_seconds,
    )
    contexts: list[tuple[str, str, list[ReadModel]]] = [
        ("canvas", Canvases.name, [bitmap, PixelOwnersReadModel(pixel_view)]),
        ("identity", Accounts.name, [AccountsReadModel(account_view)]),
        ("feedback", Feedbacks.name, [FeedbackReadModel(feedback_view)]),
        ("desk", Desks.name, [DeskReadModel(parts.desk_view)]),
    ]

    def linger_s(model: ReadModel) -> float:
        desks = isinstance(model, DeskReadModel)
        return (settings.desk_view_linger_ms if desks else settings.projection_linger_ms) / 1000

    for context, application_name, models in contexts:
        table = events_table(application_name)
        store = StoreReader(pool, settings.schema, table)
        subject = f"{settings.stream_prefix}.ev.{context}"
        if "publisher" in roles:
            parts.publishers.append(
                LogPublisher(
                    context=context,
                    store=store,
                    channel=table,
                    database_url=settings.database_url,
                    js=js,
                    stream=settings.events_stream,
                    subject_prefix=subject,
                    # The desk log's one reader, the desk view, gathers a second anyway.
                    gather_seconds=0.05 if context == "desk" else 0.005,
                )
            )
        if "projections" in roles:
            parts.runners.extend(
                ProjectionRunner(
                    model,
                    pool=pool,
                    js=js,
                    store=store,
                    schema=settings.schema,
                    stream=settings.events_stream,
                    subject=f"{subject}.>",
                    consumer=f"{settings.stream_prefix}_{model.name}",
                    fetch_timeout=(
                        settings.delta_interval_ms / 1000 if model is bitmap else linger_s(model)
                    ),
                    linger=0.0 if model is bitmap else linger_s(model),
                )
                for model in models
            )
    await parts.presence.start()
    await parts.desk_hub.start()
    await parts.desk_lifecycle.start()
    for publisher in parts.publishers:
        await publisher.start()
    for runner in parts.runners:
        await runner.start()
    return parts


async def shutdown(parts: Parts) -> None:
    await asyncio.to_thread(parts.canvases.stop_writers)
    await parts.desk_lifecycle.stop()
    await asyncio.to_thread(parts.desks.stop_writers)
    await parts.identity.gate.revocations.stop()
    await parts.presence.stop()
    await parts.desk_hub.stop()
    for publisher in parts.publishers:
        await publisher.stop()
    for runner in parts.runners:
        await runner.stop()
    with contextlib.suppress(Exception):
        await parts.nc.flush(timeout=2)
    await parts.nc.close()
    try:  # a connection still held by a cancelled task must not hold up the shutdown
        async with asyncio.timeout(5):
            await parts.pool.close()
    except TimeoutError:
        log.warning("closing the database pool timed out; terminating its connections")
        parts.pool.terminate()
    await asyncio.to_thread(parts.canvases.close)
    await asyncio.to_thread(parts.identity.accounts.close)
    await asyncio.to_thread(parts.feedback.close)
    await asyncio.to_thread(parts.desks.close)
    await parts.telegram.close()


@get("/health", include_in_schema=False)
async def health(state: State) -> dict[str, Any]:
    parts: Parts = state.parts
    return {
        "status": "ok",
        "publishers": {r.context: r.position for r in parts.publishers},
        "projections": {r.model.name: r.position for r in parts.runners},
    }


def create_app(
    settings: Settings, *, roles: Collection[str] = ALL_ROLES, parts: Parts | None = None
) -> Litestar:
    """The web application. With `parts`, it serves those (tests); otherwise it builds its own
    at start-up and closes them at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if parts is not None:
            yield
            return
        app.state.parts = await build(settings, roles)
        app.state.gate = app.state.parts.identity.gate
        try:
            yield
        finally:
            await shutdown(app.state.parts)

    def provide_reads(state: State) -> CanvasReads:
        return state.parts.reads  # type: ignore[no-any-return]

    return Litestar(
        route_handlers=[
            CanvasController,
            canvas_live,
            AuthController,
            MeController,
            AdminAccountsController,
            me_live,
            whoami,
            client_config,
            health,
            feedback_page,
            FeedbackController,
            AdminFeedbackController,
            DeskController,
            desk_live,
            desk_start,
            desk_page,
            telegram_webhook,
            index,
            static_files(),
        ],
        dependencies={
            "identity": Provide(provide_identity, sync_to_thread=False),
            "reads": Provide(provide_reads, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "parts": parts,
                "gate": parts.identity.gate if parts is not None else None,
            }
        ),
        middleware=[per_ip(Limiter(settings.rate_ip_per_s, settings.rate_ip_burst))],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Tessera", version="0.1.0", path="/schema"),
    )
