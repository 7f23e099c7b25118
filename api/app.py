"""The composition root: the only place where the service's parts are built and wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import nats
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from nats.aio.client import Client as NATS

from api.canvas import CanvasController, CanvasReads
from api.errors import EXCEPTION_HANDLERS
from commands.canvases import Canvases
from infra.bitmap_model import BitmapReadModel
from infra.canvas_view import CanvasView
from infra.eventstore import application_env, events_table
from infra.relay import Relay, ensure_stream
from infra.runner import ProjectionRunner
from infra.settings import Settings
from infra.store_reader import StoreReader

log = logging.getLogger(__name__)

ALL_ROLES = frozenset({"api", "relay", "projections"})


@dataclass
class Parts:
    """What a running node holds; handlers get the pieces they need by name."""

    settings: Settings
    pool: asyncpg.Pool
    nc: NATS
    canvases: Canvases
    reads: CanvasReads
    relays: list[Relay] = field(default_factory=list)
    runners: list[ProjectionRunner] = field(default_factory=list)


async def build(settings: Settings, roles: Collection[str] = ALL_ROLES) -> Parts:
    assert settings.database_url and settings.nats_url, "resolve the service URLs first"
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=12)
    nc = await nats.connect(settings.nats_url, name="tessera", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, settings.events_stream, [f"{settings.stream_prefix}.ev.>"])
    canvases = await asyncio.to_thread(
        Canvases,
        application_env(settings),
        linger_s=settings.writer_linger_ms / 1000,
        max_batch=settings.writer_max_batch,
        snapshot_every=settings.aggregate_snapshot_every,
    )
    view = CanvasView(pool, settings.schema, ring=settings.delta_ring)
    parts = Parts(
        settings=settings,
        pool=pool,
        nc=nc,
        canvases=canvases,
        reads=CanvasReads(view, latest_ttl=settings.latest_cache_seconds),
    )
    table = events_table(Canvases.name)
    store = StoreReader(pool, settings.schema, table)
    if "relay" in roles:
        parts.relays.append(
            Relay(
                context="canvas",
                store=store,
                channel=table,
                database_url=settings.database_url,
                js=js,
                stream=settings.events_stream,
                subject_prefix=f"{settings.stream_prefix}.ev.canvas",
            )
        )
    if "projections" in roles:
        model = BitmapReadModel(
            view,
            nc,
            delta_subject=settings.delta_subject,
            snapshot_every=settings.snapshot_every,
            snapshot_seconds=settings.snapshot_seconds,
        )
        parts.runners.append(
            ProjectionRunner(
                model,
                pool=pool,
                js=js,
                store=store,
                schema=settings.schema,
                stream=settings.events_stream,
                subject=f"{settings.stream_prefix}.ev.canvas.>",
                consumer=f"{settings.stream_prefix}_bitmap",
                fetch_timeout=settings.delta_interval_ms / 1000,
            )
        )
    for relay in parts.relays:
        await relay.start()
    for runner in parts.runners:
        await runner.start()
    return parts


async def shutdown(parts: Parts) -> None:
    await asyncio.to_thread(parts.canvases.stop_writers)
    for relay in parts.relays:
        await relay.stop()
    for runner in parts.runners:
        await runner.stop()
    with contextlib.suppress(Exception):
        await parts.nc.flush(timeout=2)
    await parts.nc.close()
    await parts.pool.close()
    await asyncio.to_thread(parts.canvases.close)


@get("/health", include_in_schema=False)
async def health(state: State) -> dict[str, Any]:
    parts: Parts = state.parts
    return {
        "status": "ok",
        "relays": {r.context: r.position for r in parts.relays},
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
        try:
            yield
        finally:
            await shutdown(app.state.parts)

    def provide_canvases(state: State) -> Canvases:
        return state.parts.canvases  # type: ignore[no-any-return]

    def provide_reads(state: State) -> CanvasReads:
        return state.parts.reads  # type: ignore[no-any-return]

    return Litestar(
        route_handlers=[CanvasController, health],
        dependencies={
            "canvases": Provide(provide_canvases, sync_to_thread=False),
            "reads": Provide(provide_reads, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        state=State({"settings": settings, "parts": parts}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Tessera", version="0.1.0", path="/schema"),
    )
