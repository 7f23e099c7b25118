"""A node's Prometheus metrics: the HTTP layer's own, and what the spine's parts already count,
read when Prometheus scrapes rather than counted twice on the hot path.

Names follow Prometheus's conventions (base units, `_total` for counters, `_seconds`), and every
label has a bounded set of values: route templates, methods, statuses, contexts, read models and
error codes, never an id. Each node has its own registry, so several nodes (or tests) in one
process never see each other's series.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter as CounterOf
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from commands.timings import BUCKETS_S, Timings
from commands.writer_thread import WRITER_TOTALS
from infra.live.fanout import LIVE_FRAMES
from infra.live.socket import LIVE_SOCKETS

disable_created_metrics()  # a `_created` series beside every counter doubles the scrape for nothing

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Publisher(Protocol):
    context: str
    position: int
    published: int


class _Named(Protocol):
    name: str


class Runner(Protocol):
    applied: int
    batches: int
    dead_letters: int

    @property
    def model(self) -> _Named: ...


@dataclass(frozen=True)
class Lag:
    """A read model as the last health report saw it."""

    newest: int
    behind: int
    stalled_for_s: float
    behind_for_s: float


@dataclass
class Watched:
    """The parts of a running node the metrics read at scrape time."""

    publishers: Sequence[Publisher]
    runners: Sequence[Runner]
    nats_stats: Callable[[], Mapping[str, int]]
    lags: Callable[[], Mapping[str, Lag]]
    """The last health report's view of every read model (refreshed before each scrape)."""
    store_heads: Callable[[], Mapping[str, int]]
    """Each context's newest notification id in its event store (refreshed likewise)."""
    gauges: Callable[[], Mapping[str, tuple[str, float]]] = dict
    """Sizes the contexts report (queues, rooms): name → (help, value)."""


class HttpTally:
    """The HTTP layer's counts, kept by the event loop's thread alone: a request costs a few
    dictionary updates (`scripts/bench_metrics.py`), the metric families are made at scrape."""

    def __init__(self) -> None:
        self.answered: CounterOf[tuple[str, str, int]] = CounterOf()
        """(route template, method, status) → requests answered."""
        self.durations: dict[tuple[str, str], Timings] = {}
        self.refusals: CounterOf[tuple[str, str]] = CounterOf()
        """(context, error code) → requests refused with it."""

    def answer(self, route: str, method: str, status: int, seconds: float) -> None:
        self.answered[route, method, status] += 1
        timings = self.durations.get((route, method))
        if timings is None:
            timings = self.durations[route, method] = Timings()
        timings.add(seconds)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpTally()
        self._spine = _SpineCollector(self.http)
        self.registry.register(self._spine)

    def watch(self, watched: Watched) -> None:
        self._spine.watched = watched

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _SpineCollector(Collector):
    def __init__(self, http: HttpTally) -> None:
        self.http = http
        self.watched: Watched | None = None

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        yield from _http(self.http)
        watched = self.watched
        if watched is None:
            return
        yield from _publishers(watched.publishers, watched.store_heads())
        yield from _projections(watched.runners, watched.lags())
        yield from _writers()
        yield from _live_sockets()
        for name, (text, value) in sorted(watched.gauges().items()):
            gauge = GaugeMetricFamily(f"tessera_{name}", text)
            gauge.add_metric([], value)
            yield gauge
        reconnects = CounterMetricFamily(
            "tessera_nats_reconnects", "Times this node's NATS connection reconnected."
        )
        reconnects.add_metric([], watched.nats_stats().get("reconnects", 0))
        yield reconnects


def _publishers(
    publishers: Sequence[Publisher], heads: Mapping[str, int]
) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
    published = CounterMetricFamily(
        "tessera_publisher_events", "Events this log publisher put on the stream.", labels=["context"]
    )
    position = GaugeMetricFamily(
        "tessera_publisher_position",
        "The last notification id this log publisher put on the stream.",
        labels=["context"],
    )
    lag = GaugeMetricFamily(
        "tessera_publisher_lag_events",
        "Events committed to the context's event store and not on the stream yet.",
        labels=["context"],
    )
    for publisher in publishers:
        published.add_metric([publisher.context], publisher.published)
        position.add_metric([publisher.context], publisher.position)
        head = heads.get(publisher.context)
        if head is not None:
            lag.add_metric([publisher.context], max(0, head - publisher.position))
    yield published
    yield position
    yield lag


def _projections(
    runners: Sequence[Runner], lags: Mapping[str, Lag]
) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
    applied = CounterMetricFamily(
        "tessera_projection_events", "Events this runner applied to its read model.",
        labels=["projection"],
    )
    batches = CounterMetricFamily(
        "tessera_projection_batches", "Transactions this runner committed to its read model; "
        "events over batches, the mean batch size.", labels=["projection"],
    )
    dead = CounterMetricFamily(
        "tessera_projection_dead_letters", "Events this runner set aside as dead letters.",
        labels=["projection"],
    )
    for runner in runners:
        applied.add_metric([runner.model.name], runner.applied)
        batches.add_metric([runner.model.name], runner.batches)
        dead.add_metric([runner.model.name], runner.dead_letters)
    yield applied
    yield batches
    yield dead
    behind = GaugeMetricFamily(
        "tessera_projection_lag_events",
        "Events of the read model's topics after its position (counted up to the health "
        "report's far-behind bound), whichever node runs it.",
        labels=["projection"],
    )
    behind_for = GaugeMetricFamily(
        "tessera_projection_lag_seconds",
        "How long the read model has been behind without a break (0 when up to date).",
        labels=["projection"],
    )
    stalled = GaugeMetricFamily(
        "tessera_projection_stalled_seconds",
        "How long the read model's position has not moved while events wait (0 when none do).",
        labels=["projection"],
    )
    for name, lag in sorted(lags.items()):
        behind.add_metric([name], lag.behind)
        behind_for.add_metric([name], lag.behind_for_s)
        stalled.add_metric([name], lag.stalled_for_s)
    yield behind
    yield behind_for
    yield stalled


def _http(tally: HttpTally) -> Iterable[CounterMetricFamily | HistogramMetricFamily]:
    answered = CounterMetricFamily(
        "tessera_http_requests", "HTTP requests answered, by route template, method and status.",
        labels=["route", "method", "status"],
    )
    for (route, method, status), count in sorted(tally.answered.items()):
        answered.add_metric([route, method, str(status)], count)
    durations = HistogramMetricFamily(
        "tessera_http_request_duration_seconds",
        "Time to answer an HTTP request, by route template and method.",
        labels=["route", "method"],
    )
    for (route, method), timings in sorted(tally.durations.items()):
        _add_timings(durations, [route, method], timings)
    refusals = CounterMetricFamily(
        "tessera_refusals",
        "Requests and live sockets' messages refused with an error code (the body's or the "
        "error frame's `error`), by context and code.",
        labels=["context", "code"],
    )
    for (context, code), count in sorted((tally.refusals + LIVE_SOCKETS.refused).items()):
        refusals.add_metric([context, code], count)
    yield answered
    yield durations
    yield refusals


def _add_timings(family: HistogramMetricFamily, labels: list[str], timings: Timings) -> None:
    cumulative = itertools.accumulate(timings.counts)
    family.add_metric(
        labels,
        [(_bound(le), count) for le, count in zip(BUCKETS_S, cumulative, strict=True)],
        sum_value=timings.total_s,
    )


def _writers() -> Iterable[CounterMetricFamily | HistogramMetricFamily]:
    saves = CounterMetricFamily(
        "tessera_writer_saves", "Batches the writers of an Application saved (one transaction "
        "each).", labels=["application"],
    )
    commands = CounterMetricFamily(
        "tessera_writer_commands", "Commands decided in the saved batches; over saves, the mean "
        "batch size.", labels=["application"],
    )
    commit = HistogramMetricFamily(
        "tessera_writer_commit_seconds", "How long a writer's transaction took to append a "
        "batch to the event store.", labels=["application"],
    )
    for application, totals in sorted(WRITER_TOTALS.items()):
        saves.add_metric([application], totals.saves)
        commands.add_metric([application], totals.commands)
        _add_timings(commit, [application], totals.commits)
    yield saves
    yield commands
    yield commit


def _bound(seconds: float) -> str:
    return "+Inf" if math.isinf(seconds) else repr(seconds)


def _live_sockets() -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
    open_now = GaugeMetricFamily(
        "tessera_live_sockets", "Live WebSockets open, by context.", labels=["context"]
    )
    opened = CounterMetricFamily(
        "tessera_live_sockets_opened", "Live WebSockets accepted, by context.", labels=["context"]
    )
    received = CounterMetricFamily(
        "tessera_live_messages_received", "Messages the clients of live sockets sent, by "
        "context.", labels=["context"],
    )
    sent = CounterMetricFamily(
        "tessera_live_frames_sent", "Frames broadcast to live sockets, by context.",
        labels=["context"],
    )
    dropped = CounterMetricFamily(
        "tessera_live_slow_clients_dropped", "Live listeners dropped for falling behind (each "
        "then resyncs from a snapshot), by context.", labels=["context"],
    )
    for context in sorted(LIVE_SOCKETS.opened):
        open_now.add_metric([context], LIVE_SOCKETS.open[context])
        opened.add_metric([context], LIVE_SOCKETS.opened[context])
        received.add_metric([context], LIVE_SOCKETS.received[context])
    for context in sorted(LIVE_FRAMES.sent):
        sent.add_metric([context], LIVE_FRAMES.sent[context])
        dropped.add_metric([context], LIVE_FRAMES.dropped[context])
    yield open_now
    yield opened
    yield received
    yield sent
    yield dropped
