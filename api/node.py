"""A running node: the spine every context shares, the contexts it runs, and their log publishers
and projection runners. `build_node` is the only place that starts them, `shutdown` the only place
that stops them; which parts a node builds depends on its roles:

- `api`: every context's Application and writers, hubs, presence, lifecycle, bot (`start`);
- `publisher`: one log publisher per context (notification log → JetStream);
- `projections`: every context's read models, each behind a projection runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar, runtime_checkable

import asyncpg
import nats.js.errors
from eventsourcing.application import Application
from litestar import Router
from litestar.datastructures import State
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from infra.progress import Bar, Progress
from infra.retry import connect_nats
from infra.settings import Settings
from infra.spine.eventstore import application_env, ensure_schema, events_table
from infra.spine.health import Followed, ProjectionHealth
from infra.spine.probe import DatabaseProbe
from infra.spine.publisher import LogPublisher, ensure_stream
from infra.spine.read_model import ReadModel
from infra.spine.readmodels import migrate as migrate_positions
from infra.spine.runner import ProjectionRunner
from infra.spine.store_reader import StoreReader

log = logging.getLogger(__name__)

API, PUBLISHER, PROJECTIONS = "api", "publisher", "projections"
ALL_ROLES = frozenset({API, PUBLISHER, PROJECTIONS})


@dataclass(frozen=True)
class Spine:
    """What every context shares: settings, the read models' pool, NATS and JetStream."""

    settings: Settings
    pool: asyncpg.Pool
    nc: NATS
    js: JetStreamContext


@dataclass(frozen=True)
class Projection:
    """A read model and how its runner gathers events: `linger_s` to fill a transaction,
    `fetch_timeout_s` the longest wait for JetStream to deliver."""

    model: ReadModel
    linger_s: float
    fetch_timeout_s: float


class Context(Protocol):
    """One bounded context, as the composition root sees it (`api/<context>/wiring.py`)."""

    name: str
    """Its log's subject segment (`<prefix>.ev.<name>`) and its parts' name in the app state."""

    @property
    def application(self) -> type[Application]:
        """Its event-sourced Application: `migrate` creates its events table."""
    publish_gather_s: float
    """How long its log publisher gathers commits into one page."""

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        """Create its read-model tables (idempotent)."""

    def projections(self, spine: Spine) -> list[Projection]:
        """Its read models (the `projections` role)."""

    async def start(self, spine: Spine) -> object:
        """Build and start its Application, writers and services (the `api` role); returns
        the parts its handlers receive."""

    async def stop(self) -> None:
        """Stop what `start` started: writers first, then the rest."""

    def router(self) -> Router:
        """Its controllers and sockets, with typed dependencies on its parts."""


class Gauge(NamedTuple):
    help: str
    value: float


@runtime_checkable
class Gauged(Protocol):
    """A context whose running parts have sizes operators watch (queues, rooms): `/metrics`
    shows each as the gauge `tessera_<name>`."""

    def gauges(self) -> Mapping[str, Gauge]:
        """Name → its help and its value now, as this node sees it (empty when not running)."""


P = TypeVar("P")


def parts_provider(name: str, kind: type[P]) -> Callable[[State], P]:
    """A Litestar provider of the running parts of the context `name`, typed as `kind`."""

    def provide(state: State) -> P:
        parts = state[name]
        assert isinstance(parts, kind), f"the {name} context runs on API nodes only"
        return parts

    return provide


@dataclass
class Node:
    spine: Spine
    contexts: Sequence[Context]
    parts: dict[str, Any] = field(default_factory=dict)
    publishers: list[LogPublisher] = field(default_factory=list)
    runners: list[ProjectionRunner] = field(default_factory=list)
    health: ProjectionHealth | None = None
    """Every context's read models, whichever node runs them (`GET /health`)."""
    probe: DatabaseProbe | None = None
    """`/readyz`'s own connection to PostgreSQL."""

    @property
    def settings(self) -> Settings:
        return self.spine.settings

    @property
    def pool(self) -> asyncpg.Pool:
        return self.spine.pool

    @property
    def nc(self) -> NATS:
        return self.spine.nc

    def __getitem__(self, context: str) -> Any:
        """A running context's parts (the `api` role), e.g. `node["desk"].hub`."""
        return self.parts[context]

    def runner(self, name: str) -> ProjectionRunner:
        return next(runner for runner in self.runners if runner.model.name == name)

    def publisher(self, context: str) -> LogPublisher:
        return next(p for p in self.publishers if p.context == context)


async def migrate_contexts(
    settings: Settings, contexts: Sequence[Context], progress: Progress | None = None
) -> None:
    """Create everything the contexts store, and the stream, once, before any node starts;
    `progress` is told of each step (the event stores, the stream, each context's views)."""
    assert settings.database_url and settings.nats_url, "resolve the service URLs first"
    steps = len(contexts) + 2
    told = progress or (lambda done, total: None)
    await asyncio.to_thread(_create_event_stores, settings, contexts)
    told(1, steps)
    nc = await connect_nats(settings.nats_url, "tessera-migrate", log)
    try:
        await ensure_stream(
            nc.jetstream(), settings.events_stream, _stream_subjects(settings),
            replicas=settings.stream_replicas,
        )
    finally:
        await nc.close()
    told(2, steps)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate_positions(conn, settings.schema)
        for done, context in enumerate(contexts, start=3):
            await context.migrate(conn, settings.schema)
            told(done, steps)
    finally:
        await conn.close()


def _stream_subjects(settings: Settings) -> list[str]:
    return [f"{settings.stream_prefix}.ev.>"]


async def reset_stream_of(
    settings: Settings, contexts: Sequence[Context], bars: Callable[[str], Bar] | None = None
) -> dict[str, int]:
    """Empty the stream and rebuild every read model from the event store; returns how many
    events each read model applied, `bars(name)` drawing each one's progress. The recovery from
    an event store behind its stream (`StoreBehindStream`): the log publishers then publish
    each store from its first event. Run it while no log publisher or projection runs."""
    spine = await _open_spine(settings)
    try:
        # Deleted and created again rather than purged: a purged stream still remembers the
        # message ids of its duplicate window, and would take the publishers' first pages
        # (`<context>:<last notification id>`) for pages it already has.
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await spine.js.delete_stream(settings.events_stream)
        await ensure_stream(
            spine.js, settings.events_stream, _stream_subjects(settings),
            replicas=settings.stream_replicas,
        )
        rebuilt: dict[str, int] = {}
        for context in contexts:
            for runner in _runners(spine, context, context.projections(spine)):
                name = runner.model.name
                progress, end = bars(name) if bars is not None else (None, lambda: None)
                try:
                    rebuilt[name] = await runner.rebuild(progress)
                finally:
                    end()
        return rebuilt
    finally:
        await _close_spine(spine)


def _create_event_stores(settings: Settings, contexts: Sequence[Context]) -> None:
    ensure_schema(settings)
    for context in contexts:
        context.application(env=application_env(settings, create_table=True)).close()


async def _open_spine(settings: Settings) -> Spine:
    assert settings.database_url and settings.nats_url, "resolve the service URLs first"
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=12)
    nc = await connect_nats(settings.nats_url, "tessera", log)
    return Spine(settings, pool, nc, nc.jetstream())


async def _close_spine(spine: Spine) -> None:
    with contextlib.suppress(Exception):
        await spine.nc.flush(timeout=2)
    await spine.nc.close()
    try:  # a connection still held by a cancelled task must not hold up the shutdown
        async with asyncio.timeout(5):
            await spine.pool.close()
    except TimeoutError:
        log.warning("closing the database pool timed out; terminating its connections")
        spine.pool.terminate()


def _store(spine: Spine, context: Context) -> StoreReader:
    table = events_table(context.application.name)
    return StoreReader(spine.pool, spine.settings.schema, table)


def _subject(settings: Settings, context: Context) -> str:
    return f"{settings.stream_prefix}.ev.{context.name}"


def _publisher(spine: Spine, context: Context) -> LogPublisher:
    settings = spine.settings
    assert settings.database_url
    return LogPublisher(
        context=context.name,
        store=_store(spine, context),
        channel=events_table(context.application.name),
        database_url=settings.database_url,
        js=spine.js,
        stream=settings.events_stream,
        subject_prefix=_subject(settings, context),
        gather_seconds=context.publish_gather_s,
    )


def _runners(
    spine: Spine, context: Context, projections: list[Projection]
) -> list[ProjectionRunner]:
    settings = spine.settings
    store = _store(spine, context)
    return [
        ProjectionRunner(
            projection.model,
            pool=spine.pool,
            js=spine.js,
            store=store,
            schema=settings.schema,
            stream=settings.events_stream,
            subject=f"{_subject(settings, context)}.>",
            consumer=f"{settings.stream_prefix}_{projection.model.name}",
            fetch_timeout=projection.fetch_timeout_s,
            linger=projection.linger_s,
            max_tries=settings.projection_max_tries,
        )
        for projection in projections
    ]


async def build_node(
    settings: Settings, contexts: Sequence[Context], roles: Collection[str] = ALL_ROLES
) -> Node:
    spine = await _open_spine(settings)
    await ensure_stream(
        spine.js, settings.events_stream, _stream_subjects(settings),
        replicas=settings.stream_replicas,
    )
    assert settings.database_url is not None  # `_open_spine` connected with it
    node = Node(spine, contexts, probe=DatabaseProbe(settings.database_url))
    followed: list[Followed] = []
    for context in contexts:
        projections = context.projections(spine)  # built, not started: cheap
        store = _store(spine, context)
        followed += [Followed(p.model.name, tuple(p.model.topics), store) for p in projections]
        if PUBLISHER in roles:
            node.publishers.append(_publisher(spine, context))
        if PROJECTIONS in roles:
            node.runners.extend(_runners(spine, context, projections))
    node.health = ProjectionHealth(
        spine.pool,
        settings.schema,
        followed,
        stalled_s=settings.health_stalled_s,
        behind_events=settings.health_behind_events,
    )
    if API in roles:
        for context in contexts:
            node.parts[context.name] = await context.start(node.spine)
    for publisher in node.publishers:
        await publisher.start()
    for runner in node.runners:
        await runner.start()
    return node


async def shutdown(node: Node) -> None:
    if node.probe is not None:
        await node.probe.close()
    for context in reversed(node.contexts):
        if context.name in node.parts:
            await context.stop()
    for publisher in node.publishers:
        await publisher.stop()
    for runner in node.runners:
        await runner.stop()
    await _close_spine(node.spine)
