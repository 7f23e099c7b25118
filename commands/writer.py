"""One writer per hot aggregate: a thread that owns it in memory and saves commands in batches.

Callers submit commands from any thread (or the event loop) and get a future. The writer drains
its queue, lets the aggregate decide on each command, and saves every event of the batch in one
`save()`; only after that commit are the batch's futures resolved, so an acknowledgement means
durable.

Deciding batch N+1 overlaps with the commit of batch N (at most one save in flight, always in
order): the aggregate is ahead of the store by at most one batch. When a save fails — another
writer appended first, or the database is away — the in-memory state is dropped, the aggregate is
reloaded, and both batches are decided again against it; nothing acknowledged is ever lost, and
nothing is acknowledged twice.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, NamedTuple, Unpack

from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError, StoredEvent

from commands.writer_thread import (
    ATTEMPTS,
    STOP,
    A,
    C,
    StoreUnavailable,
    WriterBusy,
    WriterOptions,
    WriterStopped,
    WriterThread,
    after_conflict,
    after_failure,
    answer_for,
    fail,
    resolve,
    unavailable,
)

__all__ = ["AggregateWriter", "StoreUnavailable", "WriterBusy", "WriterStopped"]

log = logging.getLogger(__name__)


Item = tuple[Any, Any]  # (command, waiter)


class _InFlight(NamedTuple):
    save: Future[None]
    batch: list[Item]
    answers: list[Any]
    snapshot: StoredEvent | None
    version: int
    """The aggregate's version once the batch is stored."""


class AggregateWriter(WriterThread[A, C]):
    """Serialises commands to one aggregate, batching their events into few saves.

    `decide(aggregate, command, now)` returns the caller's answer or raises a domain error, which
    goes to that caller alone; `load()` reads the aggregate from the application's store, and
    `loaded` is one just read (the writer starts from it).
    """

    def __init__(
        self,
        *,
        name: str,
        app: Application[Any],
        load: Callable[[], A],
        decide: Callable[[A, C, datetime], Any],
        clock: Callable[[], datetime],
        loaded: A | None = None,
        **options: Unpack[WriterOptions],
    ) -> None:
        super().__init__(name=name, app=app, decide=decide, clock=clock, **options)
        self._load = load
        self._aggregate: A | None = loaded
        self.stored_version = 0 if loaded is None else loaded.version
        """The newest version of the aggregate this writer knows stored: loaded, or saved by
        it (read from any thread; a canvas placement carries it, `Canvas.place`'s `seen`)."""
        self._saver = ThreadPoolExecutor(1, thread_name_prefix=f"save-{name}")

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self._saver.shutdown(wait=True)

    def submit(self, command: C) -> asyncio.Future[Any]:
        """Queue a command from the event loop; the future resolves after commit."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._enqueue((command, future))
        return future

    def submit_threadsafe(self, command: C) -> Future[Any]:
        """Queue a command from any thread (slower: a lock per answer)."""
        future: Future[Any] = Future()
        self._enqueue((command, future))
        return future

    # -- the loop ---------------------------------------------------------------------------------

    def _run(self) -> None:
        inflight: _InFlight | None = None
        while True:
            batch = self._next_batch(block=inflight is None)
            if batch is None:
                if inflight is not None:
                    self._settle(inflight)
                return
            if not batch:
                # Nothing new arrived while the last save was in flight: wait for it.
                assert inflight is not None
                if not self._settle(inflight):
                    self._process_again(inflight.batch)
                inflight = None
                continue
            decided = self._decide_batch(batch)  # on failure, the batch is answered with it
            if inflight is not None and not self._settle(inflight):
                # The store refused the previous batch, so `decided` stands on a stale state.
                self._process_again(inflight.batch + (batch if decided is not None else []))
                inflight = None
                continue
            inflight = None
            if decided is None:
                continue
            aggregate, answers = decided
            events = aggregate.collect_events()
            if not events:
                resolve(batch, answers)
                continue
            snapshot = self._capture_snapshot(aggregate, len(events))
            inflight = _InFlight(
                self._saver.submit(self._put, events), batch, answers, snapshot, aggregate.version
            )

    def _next_batch(self, *, block: bool) -> list[Item] | None:
        try:
            first = self._queue.get(timeout=None if block else self._linger_s)
        except queue.Empty:
            return []
        if first is STOP:
            return None
        return self._gather(first)

    def _decide_batch(self, batch: list[Item]) -> tuple[A, list[Any]] | None:
        try:
            if self._aggregate is None:
                self._aggregate = self._load()
                self.stored_version = max(self.stored_version, self._aggregate.version)
            aggregate = self._aggregate
        except Exception as error:  # noqa: BLE001 - reported; nobody is acknowledged
            self._report(error, "cannot load its aggregate")
            fail(batch, answer_for(error))
            return None
        now = self._clock()  # one authoritative time per batch: a batch spans a few ms
        return aggregate, [self._decide_one(aggregate, command, now) for command, _ in batch]

    def _settle(self, inflight: _InFlight) -> bool:
        """Wait for an in-flight save; acknowledge its batch if it committed."""
        try:
            inflight.save.result()
        except RecordConflictError:
            self.conflicts += 1
            self._aggregate = None
            return False
        except Exception as error:  # noqa: BLE001 - reported
            self._report(error, "failed to save a batch")
            self._aggregate = None
            return False
        self._saved(len(inflight.batch))
        self.stored_version = max(self.stored_version, inflight.version)
        if inflight.snapshot is not None:  # stored by the saver, before the next batch
            self._saver.submit(self._put_snapshots, [inflight.snapshot])
        resolve(inflight.batch, inflight.answers)
        return True

    def _process_again(self, batch: list[Item]) -> None:
        """Decide and save a batch synchronously against a freshly loaded aggregate."""
        error: BaseException = WriterBusy(f"{self.name}: lost {ATTEMPTS} races in a row")
        for attempt in range(ATTEMPTS):
            self._aggregate = None
            decided = self._decide_batch(batch)
            if decided is None:
                return
            aggregate, answers = decided
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
                self._report(failure, "failed to save a batch (attempt %d)", attempt)
                if unavailable(failure):
                    self._aggregate = None
                    fail(batch, answer_for(failure))
                    return
                error = failure
                after_failure(attempt)
                continue
            self._saved(len(batch))
            self.stored_version = max(self.stored_version, aggregate.version)
            self._put_snapshots([snapshot] if snapshot else [])
            resolve(batch, answers)
            return
        self._aggregate = None
        fail(batch, error)
