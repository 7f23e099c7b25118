"""What every writer thread shares: a queue of commands from any thread or event loop, batches
gathered with one sleep, decisions that turn domain errors into answers, snapshots taken from
memory, and answers sent back only after commit (one hop per event loop, not one per command).

`commands.writer.AggregateWriter` runs one hot aggregate (a canvas) with its saves pipelined;
`commands.shared_writer.SharedWriter` runs many (desks), all of a batch saved in one transaction.
A queued item is a tuple whose last element is the caller's future, or a `Reply`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypedDict, TypeVar

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent

from commands.timings import Timings

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)
C = TypeVar("C")

STOP = object()
"""Queued by `stop()`: the thread finishes what it has, then ends."""


ATTEMPTS = 10
"""How often a batch refused by the store is decided and saved again before its callers are told
to try again later. Those loops stay plain `for` loops rather than tenacity's: every try decides
the batch anew, and a conflict, a store that is away and any other failure each wait, end or
answer differently."""


class Reply(NamedTuple):
    """A caller's answer as a call instead of a future: `call(answer)` runs on `loop` after
    commit, with the result or the exception that refused the command. For callers that answer
    from a callback anyway (a live socket's ops): no future, no done-callbacks, no handles."""

    loop: asyncio.AbstractEventLoop
    call: Callable[[Any], None]


class WriterStopped(RuntimeError):
    pass


class WriterBusy(RuntimeError):
    """Another writer kept appending to the same aggregate first: nothing was saved, and the
    caller may send the same command again (by its idempotency key, it is never applied twice)."""


class StoreUnavailable(WriterBusy):
    """The event store could not be reached: nothing was saved, and the caller may send the same
    command again. Said at once: deciding and saving each aggregate of the batch again, alone,
    would only wait for the same absent database once per aggregate."""


def unavailable(error: BaseException) -> bool:
    """The store is away (no connection to be had, or it broke), rather than refusing these
    events."""
    return isinstance(error, (OperationalError, InterfaceError))


def answer_for(error: Exception) -> Exception:
    """What a caller is told when its command met `error` in the store."""
    if unavailable(error):
        return StoreUnavailable("the event store is unavailable: nothing was saved")
    return error


def traceback_of(error: BaseException) -> BaseException | None:
    """A store that is away is logged in a line (every batch meets it until it is back);
    anything else with its traceback."""
    return None if unavailable(error) else error


def after_conflict(attempt: int) -> None:
    """Another writer appended first: wait a little, differently each time, so that two nodes
    writing one aggregate fall out of step instead of colliding again and again."""
    time.sleep(secrets.randbelow(2000 * (attempt + 1)) / 1_000_000)


def after_failure(attempt: int) -> None:
    """The store failed (not a race): give it a moment to come back."""
    time.sleep(0.05 * (attempt + 1))


@dataclass
class WriterTotals:
    """What every writer of one Application class saved in this process (`/metrics`)."""

    saves: int = 0
    commands: int = 0
    """Commands decided in the saved batches (accepted or refused with a domain error)."""
    commits: Timings = field(default_factory=Timings)
    """How long the saves' transactions took."""


WRITER_TOTALS: defaultdict[str, WriterTotals] = defaultdict(WriterTotals)
"""Per Application class (`Canvases`, `Desks`, …): a bounded set, unlike the writers' names."""


class WriterOptions(TypedDict, total=False):
    """How a writer batches and snapshots, and which errors are answers rather than bugs."""

    linger_s: float
    max_batch: int
    snapshot_every: int
    domain_errors: tuple[type[Exception], ...]


class WriterThread(Generic[A, C]):
    """A thread that decides and saves commands in batches; subclasses give `_run`.

    `decide(aggregate, command, now)` returns the caller's answer or raises a domain error, which
    goes to that caller alone."""

    def __init__(
        self,
        *,
        name: str,
        app: Application[Any],
        decide: Callable[[A, C, datetime], Any],
        clock: Callable[[], datetime],
        linger_s: float = 0.002,
        max_batch: int = 2000,
        snapshot_every: int = 0,
        domain_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.name = name
        self._app = app
        self._decide = decide
        self._clock = clock
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._snapshot_every = snapshot_every
        self._domain_errors = domain_errors
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"writer-{name}", daemon=True)
        self._stopped = False
        self.saves = 0
        self.conflicts = 0
        self._totals_key = type(app).__name__
        self.unavailable = 0
        """Store failures in a row that said it is away; 0 once a save works again."""

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped = True
        self._queue.put(STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError

    def _enqueue(self, item: tuple[Any, ...]) -> None:
        """Queue `item` (its last element the caller's future), or fail it once stopped."""
        if self._stopped:
            fail([item], WriterStopped(self.name))  # from any thread
        else:
            self._queue.put(item)

    def _gather(self, first: Any) -> list[Any]:
        """`first`, then whatever else arrived within the linger, up to the batch limit.

        The thread sleeps once and then drains the queue: it wakes once a batch, not once a
        command. Each wake-up takes the interpreter lock from the event loop, and polling every
        half millisecond cost the live sockets more than the linger itself (a `STOP` met while
        draining is put back, so the loop sees it next)."""
        batch = [first]
        if self._linger_s > 0 and self._queue.qsize() < self._max_batch:
            time.sleep(self._linger_s)
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is STOP:
                self._queue.put(STOP)
                break
            batch.append(item)
        return batch

    def _decide_one(self, aggregate: A, command: C, now: datetime) -> Any:
        """The caller's answer: a result, or the error that refused its command."""
        try:
            return self._decide(aggregate, command, now)
        except self._domain_errors as error:
            return error
        except Exception as error:
            log.exception("writer %s could not decide %r", self.name, command)
            return error

    # -- how store failures are told --------------------------------------------------------------

    def _report(self, error: BaseException, what: str, *args: Any) -> None:
        """Log a failure of the store. While it is away every batch meets it (answered at once
        with `StoreUnavailable`, the store saying so without trying): the first is an error,
        the ones after it debug lines, until a save works again."""
        if unavailable(error):
            self.unavailable += 1
            if self.unavailable > 1:
                log.debug("writer %s " + what + ": %r", self.name, *args, error)
                return
        log.error("writer %s " + what + ": %r", self.name, *args, error,
                  exc_info=traceback_of(error))  # fmt: skip

    def _put(self, events: Sequence[Any]) -> None:
        """Append events to the store in one transaction, timed for `/metrics`.
        `Application.save` would check every object against a runtime Protocol (≈10 µs each),
        and the event store's `put` make a `Recording` and a `Notification` of each event that
        nobody reads here: the events are known to be this Application's, so they go to its
        store's recorder directly."""
        store = self._app.events
        started = time.perf_counter()
        store.recorder.insert_events(list(map(store.mapper.to_stored_event, events)))
        WRITER_TOTALS[self._totals_key].commits.add(time.perf_counter() - started)

    def _saved(self, commands: int) -> None:
        self.saves += 1
        totals = WRITER_TOTALS[self._totals_key]
        totals.saves += 1
        totals.commands += commands
        if self.unavailable:
            log.warning("writer %s saves again after %d failures", self.name, self.unavailable)
            self.unavailable = 0

    # -- snapshots, taken from memory rather than by replay ---------------------------------------

    def _capture_snapshot(self, aggregate: A, new_events: int) -> StoredEvent | None:
        """A snapshot when the new events crossed a multiple of `snapshot_every`; encoded now,
        because the aggregate moves on while its batch commits."""
        every = self._snapshot_every
        if not every or not new_events or self._app.snapshots is None:
            return None
        if aggregate.version // every == (aggregate.version - new_events) // every:
            return None
        snapshot_class = getattr(type(aggregate), "Snapshot", Snapshot)  # as the library's
        return self._app.mapper.to_stored_event(snapshot_class.take(aggregate))

    def _put_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        if not snapshots:
            return
        assert self._app.snapshots is not None
        try:
            self._app.snapshots.recorder.insert_events(list(snapshots))
        except Exception as error:  # noqa: BLE001 - a missing snapshot only costs a longer load
            self._report(error, "could not store snapshots")


def resolve(batch: Sequence[tuple[Any, ...]], answers: Sequence[Any]) -> None:
    """Answer each item's caller (an exception answer is raised to it). Answers to event-loop
    callers go over in one hop per loop, not one per command."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}
    for item, answer in zip(batch, answers, strict=True):
        future = item[-1]
        if type(future) is Reply:
            by_loop.setdefault(future.loop, []).append((future, answer))
        elif isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append((future, answer))
        else:
            settle(future, answer)
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_answer_all, pairs)
        except RuntimeError:  # that loop is closed: its callers are gone
            pass


def fail(batch: Sequence[tuple[Any, ...]], error: BaseException) -> None:
    resolve(batch, [error] * len(batch))


def settle(future: Any, answer: Any) -> None:
    """Answer a future (asyncio's or concurrent's) unless it is done: an exception is raised to
    its awaiter."""
    if future.done():
        return
    if isinstance(answer, BaseException):
        future.set_exception(answer)
    else:
        future.set_result(answer)


def _answer_all(pairs: list[tuple[Any, Any]]) -> None:
    for caller, answer in pairs:
        if type(caller) is not Reply:
            settle(caller, answer)
            continue
        try:
            caller.call(answer)
        except Exception:  # one caller's bug must not cost the others their answers
            log.exception("a writer's reply failed")
