"""The composition root: the only place where the contexts are put together into a web app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from api.billiards.parts import BilliardsParts
from api.bodies import JsonBodyRequest
from api.canvas.parts import CanvasParts
from api.contexts import all_contexts
from api.errors import CODES, EXCEPTION_HANDLERS
from api.export import export_events
from api.identity.parts import IdentityParts
from api.node import ALL_ROLES, Node, build_node, migrate_contexts, reset_stream_of, shutdown
from api.openapi import SECURITY, StrictStructs, describe
from api.ops import http_metrics, ops_router, watch
from api.options import name_every_method
from api.ratelimit import per_ip
from api.web import static_files
from infra.metrics import NodeMetrics
from infra.progress import Bar, Progress
from infra.ratelimit import Limiter
from infra.settings import Settings

__all__ = ["build", "create_app", "migrate", "ops_app", "reset_stream", "shutdown"]


async def migrate(settings: Settings, progress: Progress | None = None) -> None:
    """Create the tables and the stream of every context (`tessera migrate`)."""
    await migrate_contexts(settings, all_contexts(), progress)


async def reset_stream(
    settings: Settings, bars: Callable[[str], Bar] | None = None
) -> dict[str, int]:
    """Empty the stream and rebuild every read model (`tessera migrate --reset-stream`)."""
    return await reset_stream_of(settings, all_contexts(), bars)


async def build(settings: Settings, roles: Collection[str] = ALL_ROLES) -> Node:
    """A node of every context, running the given roles."""
    return await build_node(settings, all_contexts(), roles)


def _connect_bot(node: Node) -> None:
    """The service has one Telegram bot, whose webhook the canvas serves: the Mini App's
    commands (`/start`, `/stats`, `/queue`) join its own."""
    canvas, billiards = node.parts.get("canvas"), node.parts.get("billiards")
    social = billiards.social if isinstance(billiards, BilliardsParts) else None
    if isinstance(canvas, CanvasParts) and social is not None and social.bot is not None:
        canvas.telegram.commands.update(social.bot.commands())


@get("/health", include_in_schema=False)
async def health(state: State) -> Response[dict[str, Any]]:
    """Each read model's position, how far behind its context's event store it is, whether it
    is stalled, and its dead letters; each log publisher's position, and why one stopped by
    itself (its event store is behind the stream). `503 degraded` while a read model is stalled
    or far behind or a publisher has stopped, so that a load balancer or an operator notices."""
    node: Node = state.node
    projections = await node.health.report() if node.health is not None else {}
    stopped = {p.context: str(p.stopped_by) for p in node.publishers if p.stopped_by is not None}
    degraded = bool(stopped) or not all(p.healthy for p in projections.values())
    body: dict[str, Any] = {
        "status": "degraded" if degraded else "ok",
        "publishers": {p.context: p.position for p in node.publishers},
        "projections": projections,
    }
    if stopped:
        body["stopped"] = stopped
    return Response(body, status_code=CODES["degraded"].status if degraded else 200)


def _serve(state: State, node: Node) -> None:
    """Hand the node's parts to the handlers: each context's under its name, the gate apart."""
    state.node = node
    state.scrape = watch(state.metrics, node)
    _connect_bot(node)
    for name, parts in node.parts.items():
        state[name] = parts
        if isinstance(parts, IdentityParts):
            state.gate = parts.gate


def create_app(
    settings: Settings, *, roles: Collection[str] = ALL_ROLES, node: Node | None = None
) -> Litestar:
    """The web application. With `node`, it serves that one (tests); otherwise it builds its own
    at start-up and shuts it down at the end."""
    contexts = node.contexts if node is not None else all_contexts()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if node is not None:
            yield
            return
        running = await build_node(settings, contexts, roles)
        _serve(app.state, running)
        try:
            yield
        finally:
            await shutdown(running)

    metrics = NodeMetrics()
    state = State({"settings": settings, "gate": None, "metrics": metrics})
    if node is not None:
        _serve(state, node)
    app = Litestar(
        route_handlers=[
            *(context.router() for context in contexts),
            health,
            ops_router(),
            export_events,
            static_files(),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        state=state,
        middleware=[
            http_metrics(metrics),
            per_ip(
                commands=Limiter(settings.rate_ip_per_s, settings.rate_ip_burst),
                reads=Limiter(settings.rate_read_ip_per_s, settings.rate_read_ip_burst),
            )
        ],
        request_max_body_size=settings.max_body_bytes,
        request_class=JsonBodyRequest,
        openapi_config=OpenAPIConfig(
            title="Tessera", version="0.1.0", path="/schema", components=SECURITY
        ),
        plugins=[StrictStructs()],
        logging_config=None,  # infra.logs configures logging; errors are logged by api.errors
    )
    describe(app)
    name_every_method(app)
    return app


def ops_app(node: Node) -> Litestar:
    """The operators' endpoints alone (`/metrics`, `/healthz`, `/readyz`), for a node that serves
    no web API: `tessera publish` and `tessera project` on `TESSERA_METRICS_PORT`."""
    metrics = NodeMetrics()
    state = State({"settings": node.settings, "metrics": metrics, "node": node})
    state.scrape = watch(metrics, node)
    return Litestar(
        route_handlers=[ops_router()],
        state=state,
        middleware=[http_metrics(metrics)],
        openapi_config=None,
        logging_config=None,
    )
