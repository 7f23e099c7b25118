"""Runs a NATS-driven projection: a durable JetStream consumer feeding a read model in batches.

Each batch commits the read model's rows and the projection's position in one PostgreSQL
transaction, so a replayed message is recognised (its notification id is at or below the position)
and skipped. At start, and after any failure, the projection first catches up by reading the event
store directly; the stream then only carries it forward. `rebuild()` starts it over from zero.

An event the read model can never apply (PostgreSQL refuses its text, the projection raises on
it) would fail its batch for ever and stop every event after it. After `max_tries` failures in a
row at one position, the runner applies that batch's events one at a time and sets the first
that fails alone aside as a dead letter (`infra.spine.dead_letters`), moving its position past
it. A failure that is not an event's fault (the database or the network away) is never counted.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from infra import tasks
from infra.progress import Progress
from infra.retry import Retry
from infra.spine import pull
from infra.spine.dead_letters import DeadLetter, DeadLetters, describe, poisonous
from infra.spine.read_model import AfterCommit, ReadModel, Write, WritesInOrder
from infra.spine.readmodels import get_position, set_position
from infra.spine.store_reader import StoreReader
from infra.tasks import stop_requested
from projections.recorded import Columns, Recorded, decode_page

log = logging.getLogger(__name__)

CONSUMER_CHECK_S = 5.0
"""How often a projection with nothing to read asks whether its consumer still exists: a fetch
from a deleted one only times out, as if the stream were quiet."""
REPLAY_CHECK_S = 5.0
"""How often a runner looks for dead letters whose replay was asked for."""
HOLD_LOOP_S = 0.005
"""How long a runner applies a batch's pages before it lets the event loop serve others."""


def notification_id(event: Recorded) -> int:
    return event.notification_id


def apply_each(model: ReadModel, events: Sequence[Recorded]) -> None:
    for event in events:
        model.apply(event)


class ProjectionRunner:
    def __init__(
        self,
        model: ReadModel,
        *,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        store: StoreReader,
        schema: str,
        stream: str,
        subject: str,
        consumer: str,
        batch: int = 500,
        fetch_timeout: float = 0.05,
        linger: float = 0.0,
        max_tries: int = 3,
    ) -> None:
        """`batch`: messages (pages of events) a transaction takes at most; `linger`: how long
        to go on gathering them after the first arrives (0: what is there, at once);
        `max_tries`: failures in a row at one position before the runner looks for the event
        to set aside."""
        self.model = model
        self._apply_page: Callable[[Sequence[Recorded]], None] = getattr(
            model, "apply_page", functools.partial(apply_each, model)
        )
        self._apply_columns: Callable[[Columns], None] | None = getattr(
            model, "apply_columns", None
        )
        self._take_changes: Callable[[], Write] | None = getattr(model, "take_changes", None)
        self._pool = pool
        self._js = js
        self._store = store
        self._schema = schema
        self._stream = stream
        self._subject = subject
        self._consumer = consumer
        self._batch = batch
        self._fetch_timeout = fetch_timeout
        self._linger = linger
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._behind = False
        """After a failure: the view may have missed events, read them from the store."""
        self._checked = 0.0
        """When the stream last showed that the consumer exists (the event loop's clock)."""
        self._letters = DeadLetters(pool, schema)
        self._max_tries = max_tries
        self._failures = 0
        """Batches failed in a row at this position, for what may be an event's fault."""
        self._attempt: int | None = None
        """While a batch is applied and written: the last notification id applied."""
        self._suspect_upto = 0
        """The last notification id of the batch that failed last."""
        self._replay_due = 0.0
        self.position = 0
        self.applied, self.batches, self.dead_letters = 0, 0, 0
        """Events applied, transactions committed, events set aside since start (`/metrics`)."""

    async def start(self) -> None:
        """Catch up from the store, then follow the stream. An event that fails the catch-up is
        not the process's end: the runner goes on trying, and sets it aside in the end."""
        async with self._lock:
            try:
                await self._restore()
                self._behind = False
            except Exception as error:
                if not poisonous(error):
                    raise
                self._failed(error)
                self._behind = True
                log.error("projection %s: catching up failed at start: %s", self.model.name,
                          describe(error))
        self._task = asyncio.create_task(self._run(), name=f"projection-{self.model.name}")

    async def stop(self) -> None:
        await tasks.stop(self._task)
        self._task = None
        subscription, self._subscription = self._subscription, None
        if subscription is not None:  # else its pull requests may take messages meant for a
            with contextlib.suppress(Exception):  # runner started again in this process
                await subscription.unsubscribe()
        close = getattr(self.model, "close", None)
        if close is not None:  # a read model with services of its own (a sender)
            await close()

    @property
    def running(self) -> bool:
        """Started, and its loop has not ended (stopped, halted or crashed)."""
        return self._task is not None and not self._task.done()

    async def rebuild(self, progress: Progress | None = None) -> int:
        """Start over from the first event, `progress` told after each page; returns the count."""
        async with self._lock:
            async with self._pool.acquire() as conn, conn.transaction():
                await self.model.reset(conn)
                await set_position(conn, self._schema, self.model.name, 0)
            self.position = 0
            before = self.applied
            while True:
                try:
                    await self._catch_up(progress)
                    return self.applied - before
                except Exception as error:
                    upto, self._attempt = self._attempt, None
                    if upto is None or not poisonous(error):
                        raise
                    await self.model.load()
                    if not await self._set_aside_poison(upto):
                        raise

    async def _restore(self) -> None:
        await self.model.load()
        async with self._pool.acquire() as conn:
            self.position = await get_position(conn, self._schema, self.model.name)
        if self._failures >= self._max_tries:
            await self._set_aside_poison(self._suspect_upto)
            self._failures = 0
        await self._catch_up()

    async def _catch_up(self, progress: Progress | None = None) -> None:
        newest = await self._store.max_notification_id() if progress is not None else 0
        # `aclosing`: cancelled mid-page, the reader gives its connection back.
        pages: AsyncGenerator[Sequence[Recorded] | Columns, None] = (
            self._store.read(self.position, topics=self.model.topics)
            if self._apply_columns is None
            else self._store.read_columns(self.position, topics=self.model.topics)
        )
        writes = WritesInOrder()
        async with writes, contextlib.aclosing(pages):
            async for page in pages:
                last = self._apply_read(page)
                if self._take_changes is None:
                    await self._commit(last, len(page))
                else:
                    await writes.start(self._commit(last, len(page), self._take_changes()))
                if progress is not None:
                    progress(last, max(newest, last))  # (its write may be on its way)

    def _apply_read(self, page: Sequence[Recorded] | Columns) -> int:
        """Apply a page read from the store; returns its last notification id."""
        if isinstance(page, Columns):
            assert self._apply_columns is not None  # pages come as columns only for such models
            self._attempt = int(page.ids[-1])
            self._apply_columns(page)
        else:
            self._attempt = page[-1].notification_id
            self._apply_page(page)
        return self._attempt

    async def _commit(self, position: int, count: int, write: Write | None = None) -> None:
        after_commit = await self._write(position, count, write)
        if after_commit is not None:
            await after_commit()

    async def _write(
        self, position: int, count: int, write: Write | None = None
    ) -> AfterCommit | None:
        """Commit what was applied, up to `position` (or what `write` took of it); returns what
        to do once committed."""
        async with self._pool.acquire() as conn, conn.transaction():
            after_commit = await (self.model.write(conn) if write is None else write(conn))
            await set_position(conn, self._schema, self.model.name, position)
        self.position = position
        self.applied += count
        self.batches += 1
        if self._attempt == position:  # not a later page's, applied while this one was written
            self._attempt = None
        self._failures = 0
        return after_commit

    # -- an event that cannot be applied --------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        """Count a batch that failed for what may be the fault of one of its events."""
        if self._attempt is not None and poisonous(error):
            self._failures += 1
            self._suspect_upto = self._attempt
        self._attempt = None

    async def _set_aside_poison(self, upto: int) -> bool:
        """Apply the events up to `upto` one at a time, each in its own transaction, and set the
        first that fails alone aside; False when none did. The model has just been loaded."""
        pages = self._store.read(self.position, topics=self.model.topics, upto=upto)
        async with contextlib.aclosing(pages):
            async for page in pages:
                for event in page:
                    try:
                        self.model.apply(event)
                        after_commit = await self._write(event.notification_id, 1)
                    except Exception as error:
                        if not poisonous(error):
                            raise
                        await self.model.load()  # as of the last commit, without the event
                        await self._set_aside(event, error)
                        return True
                    if after_commit is not None:
                        await after_commit()
        return False

    async def _set_aside(self, event: Recorded, error: BaseException) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._letters.record(conn, self.model.name, event, error)
            await set_position(conn, self._schema, self.model.name, event.notification_id)
        self.position = event.notification_id
        self.dead_letters += 1
        log.error(
            "projection %s: set event %d aside as a dead letter (%s of %s, version %d), "
            "`tessera dead-letters` lists it: %s",
            self.model.name,
            event.notification_id,
            event.topic,
            event.originator_id,
            event.originator_version,
            describe(error),
        )

    async def replay_requested(self) -> int:
        """Apply again, one at a time, the dead letters of this read model whose replay was
        asked for (`tessera dead-letters --replay`); returns how many reached the view. A
        replay that fails keeps its dead letter, with the new error."""
        replayed = 0
        for letter in await self._letters.list_requested(self.model.name):
            async with self._lock:
                replayed += await self._replay(letter)
        return replayed

    async def _replay(self, letter: DeadLetter) -> bool:
        name, notification_id = self.model.name, letter.notification_id
        event = await self._store.find_event(notification_id)
        if event is None:
            await self._letters.failed_again(name, notification_id, "not in the event store")
            return False
        try:
            self.model.apply(event)
            async with self._pool.acquire() as conn, conn.transaction():
                after_commit = await self.model.write(conn)
                await self._letters.replayed(conn, name, notification_id)
        except Exception as error:
            if not poisonous(error):
                raise  # the request stays: tried again once the database is back
            await self.model.load()
            await self._letters.failed_again(name, notification_id, describe(error))
            log.error("projection %s: dead letter %d failed again: %s",
                      name, notification_id, describe(error))
            return False
        log.warning("projection %s: dead letter %d replayed", name, notification_id)
        if after_commit is not None:
            await after_commit()
        return True

    # -- the stream ------------------------------------------------------------------------------

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        config = ConsumerConfig(
            durable_name=self._consumer,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=self._subject,
            max_ack_pending=50_000,
            ack_wait=30,
        )
        return await self._js.pull_subscribe(
            self._subject, durable=self._consumer, stream=self._stream, config=config
        )

    async def _run(self) -> None:
        retry = Retry(log, f"projection {self.model.name}", "a batch failed")
        self._subscription = None  # `start()` has just restored the view: subscribe anew
        self._checked = asyncio.get_running_loop().time()
        while not stop_requested():
            await retry(self._next_batch)

    async def _next_batch(self) -> None:
        """Apply the stream's next batch. A failure drops the subscription, and the next try
        first reads from the store what the view may have missed."""
        loop = asyncio.get_running_loop()
        try:
            if self._behind:
                async with self._lock:
                    await self._restore()
                self._behind = False
            if self._subscription is None:
                self._subscription = await self._subscribe()
                self._checked = loop.time()
            messages = await self._gather(self._subscription)
            if messages:
                async with self._lock:
                    await self._apply_messages(messages)
                await messages[-1].ack()
                self._checked = loop.time()
            elif loop.time() - self._checked >= CONSUMER_CHECK_S:
                await self._subscription.consumer_info()  # raises NotFoundError once deleted
                self._checked = loop.time()
            if loop.time() >= self._replay_due:
                self._replay_due = loop.time() + REPLAY_CHECK_S
                await self.replay_requested()
        except Exception as error:
            self._failed(error)
            if self._subscription is not None:
                with contextlib.suppress(Exception):
                    await self._subscription.unsubscribe()
            self._subscription = None
            self._behind = True
            raise

    async def _gather(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        """The next batch: what the stream has now (or the first message to come), and for a
        lingering read model also what came within `linger` after it. A fetch answers as soon
        as it has something, so a lingering model sleeps first and then takes everything in
        one more fetch: a fetch a message would cost a pull request's round trip each."""
        messages = await pull.fetch(subscription, self._batch, self._fetch_timeout)
        if messages and self._linger > 0 and len(messages) < self._batch:
            await asyncio.sleep(self._linger)
            messages += await pull.fetch(subscription, self._batch - len(messages), 0.05)
        return messages

    async def _apply_messages(self, messages: list[Msg]) -> None:
        position = self.position
        fresh = 0
        clock = time.perf_counter
        held_since = clock()
        for message in messages:
            page = decode_page(message.data)
            # Skip what is already in the view: a redelivery, or caught up from the store.
            page = page[bisect.bisect_right(page, position, key=notification_id):]
            if page:
                self._attempt = page[-1].notification_id
                self._apply_page(page)
                position = page[-1].notification_id
                fresh += len(page)
            # A second's pages applied in one go could hold the loop for tens of ms, and a node
            # that also serves sockets would answer nobody meanwhile. But not a turn of the loop
            # per page: under load a turn takes milliseconds, a batch holds more pages the
            # slower it goes, and the live deltas fell behind by hundreds of ms.
            if clock() - held_since >= HOLD_LOOP_S:
                await asyncio.sleep(0)
                held_since = clock()
        if fresh:
            await self._commit(position, fresh)
