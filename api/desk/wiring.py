"""The desk context (sticker desks): the one place that builds its parts."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.desk.controller import DeskController
from api.desk.live import desk_live
from api.desk.pages import desk_page, desk_start, desk_worker
from api.desk.parts import NAME, DeskParts, provide_desk
from api.identity.wiring import signing_keys
from api.node import Projection, Spine
from commands.desk.desks import Desks
from infra.desk import view as desk_view
from infra.desk.hub import DeskHub
from infra.desk.keys import DeskSessionKeys
from infra.desk.lifecycle import DeskLifecycle
from infra.desk.reads import DeskReads
from infra.desk.view import DeskReadModel, DeskView
from infra.retry import connect_nats
from infra.spine.eventstore import application_env

log = logging.getLogger(__name__)


class DeskContext:
    name = NAME
    application = Desks
    # The desk log's one reader, the desk view, gathers a second anyway: pages of 50 ms.
    publish_gather_s = 0.05

    def __init__(self) -> None:
        self._parts: DeskParts | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await desk_view.migrate(conn, schema)

    def projections(self, spine: Spine) -> list[Projection]:
        linger_s = spine.settings.desk.view_linger_ms / 1000
        view = DeskView(spine.pool, spine.settings.schema)
        return [Projection(DeskReadModel(view), linger_s=linger_s, fetch_timeout_s=linger_s)]

    async def start(self, spine: Spine) -> DeskParts:
        settings = spine.settings
        desks = await asyncio.to_thread(
            Desks,
            application_env(settings),
            ttl_s=settings.desk.ttl_s,
            linger_s=settings.desk.writer_linger_ms / 1000,
            max_batch=settings.writer_max_batch,
        )
        view = DeskView(spine.pool, settings.schema)
        hub = DeskHub(
            desks,
            view,
            spine.nc,
            # A node writes its own frames to its sockets; NATS must not echo them back.
            await connect_nats(settings.nats_url or "", "tessera-desk-frames", log, no_echo=True),
            prefix=settings.stream_prefix,
            capacity=settings.live_queue_frames,
            ttl_s=settings.desk.ttl_s,
            session_keys=DeskSessionKeys.derive(signing_keys(settings)),
        )
        lifecycle = DeskLifecycle(
            desks,
            view,
            hub,
            ttl_s=settings.desk.ttl_s,
            idle_session_s=settings.desk.idle_session_s,
            writer_idle_s=settings.desk.writer_idle_s,
        )
        self._parts = DeskParts(
            desks=desks,
            view=view,
            reads=DeskReads(view, desks, ttl_s=settings.desk.ttl_s),
            hub=hub,
            lifecycle=lifecycle,
        )
        await hub.start()
        await lifecycle.start()
        return self._parts

    async def stop(self) -> None:
        parts = self._parts
        if parts is None:
            return
        await parts.lifecycle.stop()
        await asyncio.to_thread(parts.desks.stop_writers)
        await parts.hub.stop()
        await asyncio.to_thread(parts.desks.close)

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[DeskController, desk_live, desk_start, desk_page, desk_worker],
            dependencies={"desk": Provide(provide_desk, sync_to_thread=False)},
        )
