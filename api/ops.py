"""What operators and load balancers ask a node: `/metrics` (Prometheus), `/healthz` (the process
lives) and `/readyz` (it can do its job: PostgreSQL and NATS answer, its loops run, its read
models keep up). Served by every role: by the web app, and by `tessera publish` / `tessera
project` on `TESSERA_METRICS_PORT`."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, cast

import msgspec
from litestar import Response, Router, get
from litestar.datastructures import State
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from api.errors import CODES
from api.node import Gauged, Node
from infra import logs
from infra.logs import context_of
from infra.metrics import CONTENT_TYPE, HttpTally, Lag, NodeMetrics, Watched
from infra.spine.eventstore import events_table
from infra.spine.probe import AWAY as DATABASE_AWAY
from infra.spine.store_reader import StoreReader

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 1.0
"""How long `/readyz` waits for PostgreSQL before it calls it unreachable."""


class _Scrape:
    """What `/metrics` reads from the database before each scrape: the read models' health
    report and each context's newest notification id."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._stores: dict[str, StoreReader] = {}
        self.lags: dict[str, Lag] = {}
        self.heads: dict[str, int] = {}

    async def refresh(self) -> None:
        node = self._node
        if not self._stores:
            self._stores = {
                context.name: StoreReader(
                    node.pool, node.settings.schema, events_table(context.application.name)
                )
                for context in node.contexts
            }
        if node.health is not None:
            report = await node.health.report()
            self.lags = {
                name: Lag(state.newest, state.behind, state.stalled_for_s, state.behind_for_s)
                for name, state in report.items()
            }
        self.heads = {
            name: await store.max_notification_id() for name, store in self._stores.items()
        }


def watch(metrics: NodeMetrics, node: Node) -> _Scrape:
    """Point the metrics at a running node; returns what to refresh before each scrape."""
    scrape = _Scrape(node)
    metrics.watch(
        Watched(
            publishers=node.publishers,
            runners=node.runners,
            nats_stats=lambda: node.nc.stats,
            lags=lambda: scrape.lags,
            store_heads=lambda: scrape.heads,
            gauges=lambda: {
                name: gauge
                for context in node.contexts if isinstance(context, Gauged)
                for name, gauge in context.gauges().items()
            },
        )
    )
    return scrape


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(state: State) -> Response[bytes]:
    scrape: _Scrape | None = state.get("scrape")
    if scrape is not None:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await scrape.refresh()
        except DATABASE_AWAY as error:  # the process's own figures still go out
            log.warning("metrics: the read models' lag is unknown: %s", error)
    metrics: NodeMetrics = state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process lives and its event loop answers."""
    return {"status": "alive"}


@get("/readyz", include_in_schema=False)
async def readyz(state: State) -> Response[dict[str, Any]]:
    """Ready for traffic: 200, or 503 `not_ready` naming every check that failed."""
    node: Node = state.node
    checks = await readiness(node)
    failed = sorted(name for name, ok in checks.items() if not ok)
    if not failed:
        return Response({"status": "ready", "checks": checks}, status_code=200)
    body = {"error": "not_ready", "detail": f"failing: {', '.join(failed)}", "checks": checks}
    return Response(body, status_code=CODES["not_ready"].status)


async def readiness(node: Node) -> dict[str, bool]:
    """This node's own checks. A read model's lag counts only on a node that runs its
    projection: every API node serves the same read models, so their lag says nothing about
    which node to send a client to, and failing them all for it (a NATS failover stalls the
    projector for seconds, 10,000 events at this load) left the load balancer no node at all
    and cut every live socket. The lag is `/health`'s, the metrics' and the alerts' business."""
    checks = {"postgres": await _database_answers(node), "nats": node.nc.is_connected}
    for publisher in node.publishers:
        checks[f"publisher:{publisher.context}"] = publisher.running
    projected = set()
    for runner in node.runners:
        checks[f"projection:{runner.model.name}"] = runner.running
        projected.add(runner.model.name)
    if checks["postgres"] and projected and node.health is not None:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                report = await node.health.report()
        except DATABASE_AWAY:
            report = None
        for name in sorted(projected):
            health = None if report is None else report.get(name)
            checks[f"read_model:{name}"] = health is not None and health.healthy
    return checks


async def _database_answers(node: Node) -> bool:
    """On the probe's own connection (`infra/spine/probe.py`): a pool busy with the node's work
    is no sign of the database being away."""
    return node.probe is not None and await node.probe.answers(READY_TIMEOUT_S)


def ops_router() -> Router:
    return Router("/", route_handlers=[metrics_endpoint, healthz, readyz])


# -- the HTTP layer's own metrics ------------------------------------------------------------------

_decode_error = msgspec.json.Decoder(dict[str, Any]).decode


def http_metrics(metrics: NodeMetrics) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: each answered request counted by route template, method and status and
    timed; each refusal counted by its context and error code. Outermost, so it sees what the
    other middleware refuses (429); a path no route matches is not counted (its label would be
    the raw path, unbounded)."""
    tally = metrics.http

    def middleware(app: ASGIApp) -> ASGIApp:
        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            status = 500
            refusal: list[bytes] = []

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                elif status >= 400 and not refusal and message["type"] == "http.response.body":
                    refusal.append(message.get("body", b""))
                await send(message)

            route: str = scope.get("path_template", "unmatched")
            method: str = cast("HTTPScope", scope)["method"]
            logs.request_id.set(_request_id(cast("HTTPScope", scope)))
            logs.route.set(route)
            started = time.perf_counter()
            try:
                await app(scope, receive, sending)
            finally:
                elapsed = time.perf_counter() - started
                tally.answer(route, method, status, elapsed)
                if refusal:
                    _count_refusal(tally, route, refusal[0])
                if logs.access_on:
                    logs.access.info("%s %s %d %.1f ms", method, route, status, elapsed * 1000)

        return measured

    return middleware


_NODE_PREFIX = secrets.token_hex(4)
_numbers = itertools.count(1)


def _request_id(scope: HTTPScope) -> str:
    """The caller's `X-Request-Id` when it sent a sane one (a proxy's), else a new one: this
    process's random prefix and a counter (unique across nodes, and no system call a request)."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if 0 < len(value) <= 64 and value.isascii() and value.decode().isprintable():
                return value.decode()
            break
    return f"{_NODE_PREFIX}-{next(_numbers):x}"


def _count_refusal(tally: HttpTally, route: str, body: bytes) -> None:
    try:
        code = _decode_error(body).get("error")
    except msgspec.DecodeError:
        return
    if isinstance(code, str):
        tally.refusals[context_of(route), code] += 1


