"""One writer thread for many aggregates: it holds the active ones in memory, decides the commands
of every one of them in batches, and saves each batch's events of all of them in ONE transaction.

A thread per aggregate (`commands.writer.AggregateWriter`) suits one hot canvas; a thousand active
desks would be two thousand threads. Here callers submit `(aggregate id, command)` from the event
loop and get a future; the thread drains its queue every few milliseconds, decides each command
against its aggregate (loaded on first use, kept until evicted), puts every new event of the batch
into the store at once, and only then answers: an acknowledgement means durable.

A batch is atomic, so when the store refuses it (another node appended to one of its aggregates,
or the database is away) every aggregate it touched is dropped from memory and each one's part is
decided and saved again on its own against a fresh load: one conflicting aggregate costs its own
callers a retry and nobody else anything. Nothing acknowledged is lost or applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Unpack
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError, StoredEvent

from commands.writer_thread import (
    ATTEMPTS,
    STOP,
    A,
    C,
    Reply,
    WriterBusy,
    WriterOptions,
    WriterThread,
    after_conflict,
    after_failure,
    answer_for,
    fail,
    resolve,
    unavailable,
)

log = logging.getLogger(__name__)


Item = tuple[UUID, Any, Any]  # (aggregate id, command, future)

LOADERS = 4
"""Threads loading aggregates the writer does not hold (the store's reads run in parallel)."""


class SharedWriter(WriterThread[A, C]):
    """Serialises the commands of many aggregates through one thread, one save per batch.

    `load(id)` reads an aggregate from the store (its domain error goes to the callers of that
    aggregate); `decide(aggregate, command, now)` returns the caller's answer or raises a domain
    error, which goes to that caller alone.
    """

    def __init__(
        self,
        *,
        name: str,
        app: Application[Any],
        load: Callable[[UUID], A],
        decide: Callable[[A, C, datetime], Any],
        clock: Callable[[], datetime],
        **options: Unpack[WriterOptions],
    ) -> None:
        super().__init__(name=name, app=app, decide=decide, clock=clock, **options)
        self._load = load
        self._held: dict[UUID, A] = {}
        self._used: dict[UUID, datetime] = {}
        self._lock = threading.Lock()
        """Guards `_held`, `_used` and `_loading` between the callers, the loaders, the writer
        thread and eviction."""
        self._loading: dict[UUID, list[Item]] = {}
        """Aggregates being loaded on the loader threads, with the items waiting for them."""
        self._loader = ThreadPoolExecutor(LOADERS, thread_name_prefix=f"load-{name}")
        self.batches = 0
        self.commands = 0

    def submit(self, aggregate_id: UUID, command: C) -> asyncio.Future[Any]:
        """Queue a command from the event loop; the future resolves after commit."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._route((aggregate_id, command, future))
        return future

    def submit_reply(self, aggregate_id: UUID, command: C, call: Callable[[Any], None]) -> None:
        """Queue a command from the event loop; `call(answer)` runs on it after commit (see
        `Reply`)."""
        self._route((aggregate_id, command, Reply(asyncio.get_running_loop(), call)))

    def submit_threadsafe(self, aggregate_id: UUID, command: C) -> Future[Any]:
        future: Future[Any] = Future()
        self._route((aggregate_id, command, future))
        return future

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopped = True  # from now on, and for what waits for a load: WriterStopped
        self._loader.shutdown(wait=True)
        super().stop(timeout)

    def _route(self, item: Item) -> None:
        """Queue an item for the writer; for an aggregate it does not hold, after that
        aggregate's load on a loader thread (loading a big one on the writer's own thread would
        hold up every other aggregate's batches). One aggregate's items keep their order."""
        aggregate_id = item[0]
        with self._lock:
            waiting = self._loading.get(aggregate_id)
            if waiting is not None:
                waiting.append(item)
                return
            if aggregate_id in self._held or self._stopped:
                self._enqueue(item)
                return
            self._loading[aggregate_id] = [item]
        self._loader.submit(self._preload, aggregate_id)

    def _preload(self, aggregate_id: UUID) -> None:
        aggregate: A | None = None
        try:
            aggregate = self._load(aggregate_id)
        except self._domain_errors:  # unknown or gone: the writer's own load tells its callers
            pass
        except Exception as error:  # noqa: BLE001 - reported; the writer's own load answers
            self._report(error, "could not load %s ahead", aggregate_id)
        with self._lock:
            if aggregate is not None and aggregate_id not in self._held:
                self._held[aggregate_id] = aggregate
                self._used[aggregate_id] = self._clock()
            for item in self._loading.pop(aggregate_id):
                self._enqueue(item)

    # -- what is held in memory -------------------------------------------------------------------

    def held(self) -> int:
        return len(self._held)

    def held_aggregates(self) -> list[A]:
        """What is held now: read them, never change them (the writer thread owns them)."""
        with self._lock:
            return list(self._held.values())

    def evict(self, aggregate_id: UUID) -> None:
        """Forget an aggregate (the next command loads it again from the store)."""
        with self._lock:
            self._held.pop(aggregate_id, None)
            self._used.pop(aggregate_id, None)

    def evict_idle(self, idle: timedelta, now: datetime) -> datetime | None:
        """Forget the aggregates no command used for `idle`; when the next one falls idle."""
        next_due: datetime | None = None
        with self._lock:
            for aggregate_id, used in list(self._used.items()):
                if used + idle <= now:
                    del self._used[aggregate_id]
                    self._held.pop(aggregate_id, None)
                elif next_due is None or used + idle < next_due:
                    next_due = used + idle
        return next_due

    # -- the loop ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._process(batch)
            except Exception as error:  # a bug must cost this batch's answers, never the thread
                log.exception("writer %s failed a batch", self.name)
                with self._lock:
                    for aggregate_id, _, _ in batch:
                        self._held.pop(aggregate_id, None)
                fail(batch, error)

    def _next_batch(self) -> list[Item] | None:
        first = self._queue.get()
        if first is STOP:
            return None
        return self._gather(first)

    def _process(self, batch: list[Item]) -> None:
        now = self._clock()  # one authoritative time per batch: a batch spans a few ms
        self.batches += 1
        self.commands += len(batch)
        answers: list[Any] = [None] * len(batch)
        touched: dict[UUID, A] = {}
        unloadable: dict[UUID, Exception] = {}
        held: set[UUID] = set()
        for index, (aggregate_id, command, _) in enumerate(batch):
            aggregate = touched.get(aggregate_id)
            if aggregate is None:
                if aggregate_id in unloadable:
                    answers[index] = unloadable[aggregate_id]
                    continue
                with self._lock:
                    if aggregate_id in self._held:
                        held.add(aggregate_id)
                try:
                    aggregate = self._aggregate(aggregate_id, now)
                except self._domain_errors as error:  # unknown or gone
                    answers[index] = unloadable[aggregate_id] = error
                    continue
                except Exception as error:  # noqa: BLE001 - reported; nobody is acknowledged
                    self._report(error, "cannot load %s", aggregate_id)
                    answers[index] = unloadable[aggregate_id] = answer_for(error)
                    continue
                touched[aggregate_id] = aggregate
            answers[index] = self._decide_one(aggregate, command, now)
        doubtful = self._refused_by_memory(batch, answers, held)
        if doubtful:
            kept = [n for n, item in enumerate(batch) if item[0] not in doubtful]
            again = [item for item in batch if item[0] in doubtful]
            batch, answers = [batch[n] for n in kept], [answers[n] for n in kept]
            for aggregate_id in doubtful:
                del touched[aggregate_id]
            self._split(again)
        events: list[Any] = []
        snapshots: list[StoredEvent] = []
        for aggregate in touched.values():
            new = aggregate.collect_events()
            events += new
            snapshot = self._capture_snapshot(aggregate, len(new))
            if snapshot is not None:
                snapshots.append(snapshot)
        if events:
            try:
                self._put(events)
            except Exception as error:  # noqa: BLE001 - reported, or a conflict
                if isinstance(error, RecordConflictError):
                    self.conflicts += 1
                else:
                    self._report(error, "failed to save a batch of %d", len(batch))
                with self._lock:
                    for aggregate_id in touched:
                        self._held.pop(aggregate_id, None)
                self._split(batch)
                return
            self._saved(len(batch))
        resolve(batch, answers)  # then the snapshots: a cache, which no answer waits for
        self._put_snapshots(snapshots)

    def _refused_by_memory(
        self, batch: list[Item], answers: list[Any], held: set[UUID]
    ) -> set[UUID]:
        """The aggregates decided from memory that refused a command. Another node may have
        written one since this one kept it (a desk moves between nodes when one restarts), and
        a refusal saves nothing, so no conflict would tell: they are decided again, each
        against a fresh load (`_process_alone`). An acceptance needs no such care: saving it
        meets the other node's events as a conflict."""
        doubtful = {
            aggregate_id
            for (aggregate_id, _, _), answer in zip(batch, answers, strict=True)
            if aggregate_id in held and isinstance(answer, BaseException)
        }
        if doubtful:
            with self._lock:
                for aggregate_id in doubtful:
                    self._held.pop(aggregate_id, None)
        return doubtful

    def _aggregate(self, aggregate_id: UUID, now: datetime) -> A:
        with self._lock:
            aggregate = self._held.get(aggregate_id)
        if aggregate is None:
            aggregate = self._load(aggregate_id)
        with self._lock:
            self._held[aggregate_id] = aggregate
            self._used[aggregate_id] = now
        return aggregate

    def _split(self, batch: list[Item]) -> None:
        """The store refused a batch: each aggregate's part again, alone, against a fresh load.
        Once one part finds the store away, the others are told so at once: trying each of a
        thousand desks against an absent database would hold the writer for hours."""
        parts: dict[UUID, list[Item]] = {}
        for item in batch:
            parts.setdefault(item[0], []).append(item)
        away: Exception | None = None
        for aggregate_id, part in parts.items():
            if away is not None:
                fail(part, away)
            else:
                away = self._process_alone(aggregate_id, part)

    def _process_alone(self, aggregate_id: UUID, part: list[Item]) -> Exception | None:
        """Decide and save one aggregate's part; the `StoreUnavailable` it was answered with,
        if the store was away."""
        error: BaseException = WriterBusy(f"{self.name}: lost {ATTEMPTS} races in a row")
        for attempt in range(ATTEMPTS):
            now = self._clock()
            try:
                aggregate = self._load(aggregate_id)
            except self._domain_errors as failure:
                fail(part, failure)
                return None
            except Exception as failure:  # noqa: BLE001 - reported
                self._report(failure, "cannot load %s", aggregate_id)
                answer = answer_for(failure)
                fail(part, answer)
                return answer if unavailable(failure) else None
            answers = [self._decide_one(aggregate, command, now) for _, command, _ in part]
            events = aggregate.collect_events()
            snapshot = self._capture_snapshot(aggregate, len(events))
            try:
                if events:
                    self._put(events)
            except RecordConflictError:
                self.conflicts += 1
                after_conflict(attempt)
                continue
            except Exception as failure:  # noqa: BLE001 - reported
                self._report(failure, "failed to save (attempt %d)", attempt)
                if unavailable(failure):
                    answer = answer_for(failure)
                    fail(part, answer)
                    return answer
                error = failure
                after_failure(attempt)
                continue
            self._saved(len(part))
            with self._lock:
                self._held[aggregate_id] = aggregate
                self._used[aggregate_id] = now
            self._put_snapshots([snapshot] if snapshot is not None else [])
            resolve(part, answers)
            return None
        fail(part, error)
        return None
