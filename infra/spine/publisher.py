"""The log publisher: follows a context's notification log and publishes it to JetStream, a page of
consecutive events per message, on the context's one subject `<prefix>.ev.<context>.log`.

Commit order is log order (the library locks the table for every insert), so reading forward from
the last published notification id never skips an event. A page goes out only if the subject's
last message is still the one this publisher last saw (`Nats-Expected-Last-Subject-Sequence`);
when it is not (another publisher of the context published meanwhile, or this one lost an ack),
the publisher reads where the log stands from the subject's last message and goes on from there.
So the stream holds every event once, in order, whoever publishes, and a restart neither skips nor
repeats. LISTEN/NOTIFY wakes the publisher; a slow poll covers a lost notification.

That place must be in the store: each time the publisher finds it (at start, after any failure,
after another publisher's page) it checks that the store reaches as far. A store behind its
stream (PostgreSQL restored from a backup, a schema recreated while the stream was kept) would
record new events under notification ids the stream has passed: they would never be published,
and the projections would later skip them. The publisher stops instead (`StoreBehindStream`), and
says how to recover: `tessera migrate --reset-stream`.

Pages, not an event a message: a message costs the publisher a publish, the NATS server a stored
message, and every projection a delivery, whatever its size. At a few thousand sticker ops a
second those per-message costs were most of the publisher's and the projector's work; a page a
wake-up makes them a few hundred a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import asyncpg
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from infra import tasks
from infra.retry import Retry
from infra.spine.store_reader import StoreReader
from infra.tasks import stop_requested
from projections.recorded import Recorded, decode_page, encode_page

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024
"""A page is split into messages of about this size at most (NATS refuses more than 1 MB)."""
_WRONG_LAST_SEQUENCE = 10071
"""JetStream's error code when an expected last sequence does not hold."""
RESET_COMMAND = "tessera migrate --reset-stream"
"""The recovery from a store behind its stream: it empties the stream (the publishers then
publish each store from its first event) and rebuilds the read models."""


class StoreBehindStream(Exception):
    """The stream holds a context's events up to a notification id its event store has not
    reached: publishing on would skip the events the store records up to there."""

    def __init__(self, context: str, stream: str, published: int, stored: int) -> None:
        super().__init__(
            f"the event store of {context} ends at notification id {stored}, but the stream "
            f"{stream} already holds its events up to {published} (PostgreSQL restored from a "
            f"backup, or the schema recreated while the stream was kept): the log publisher of "
            f"{context} has stopped. To recover, stop the publisher and the projections and run "
            f"`{RESET_COMMAND}`: it empties the stream and rebuilds the read models from the "
            f"event store"
        )
        self.published = published
        self.stored = stored


async def ensure_stream(
    js: JetStreamContext,
    name: str,
    subjects: list[str],
    *,
    duplicate_window: float = 120.0,
    replicas: int = 1,
) -> None:
    """Create the stream, or bring an existing one to this configuration (JetStream can raise
    the replicas of a clustered stream in place)."""
    config = StreamConfig(
        name=name, subjects=subjects, duplicate_window=duplicate_window, num_replicas=replicas
    )
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError:
        await js.update_stream(config)


def log_subject(subject_prefix: str) -> str:
    """The one subject of a context's log in the stream (`subject_prefix`:
    `<prefix>.ev.<context>`)."""
    return f"{subject_prefix}.log"


class LogPublisher:
    def __init__(
        self,
        *,
        context: str,
        store: StoreReader,
        channel: str,
        database_url: str,
        js: JetStreamContext,
        stream: str,
        subject_prefix: str,
        batch: int = 500,
        poll_seconds: float = 1.0,
        ack_timeout: float = 5.0,
        gather_seconds: float = 0.005,
    ) -> None:
        """`gather_seconds`: the least time between two reads of the log, so that the commits
        made meanwhile go out as one page (every writer's commit wakes the publisher)."""
        self.context = context
        self._store = store
        self._channel = channel
        self._database_url = database_url
        self._js = js
        self._stream = stream
        self._subject = log_subject(subject_prefix)
        self._last_sequence: int | None = None
        """The stream sequence of the context's last message as this publisher knows it (None:
        ask the stream); `position` is that message's last notification id."""
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._gather_seconds = gather_seconds
        self._ack_timeout = ack_timeout
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        """The connection that LISTENs for the context's commits."""
        self._task: asyncio.Task[None] | None = None
        self._halted = asyncio.Event()
        self.position = 0
        self.published = 0
        self.stopped_by: StoreBehindStream | None = None
        """Why the publisher stopped by itself (None while it runs, or was stopped by `stop`)."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"publisher-{self.context}")

    async def stop(self) -> None:
        await tasks.stop(self._task)
        self._task = None

    @property
    def running(self) -> bool:
        """Started, and its loop has not ended (stopped, halted or crashed)."""
        return self._task is not None and not self._task.done()

    async def halted(self) -> StoreBehindStream:
        """Returns once the publisher has stopped by itself, with the reason."""
        await self._halted.wait()
        assert self.stopped_by is not None
        return self.stopped_by

    async def published_position(self) -> int:
        """The notification id of the context's last event in the stream (0 if none)."""
        return (await self._stream_head())[1]

    async def _stream_head(self) -> tuple[int, int]:
        """The stream sequence of the context's last message and its last notification id."""
        try:
            last = await self._js.get_last_msg(self._stream, self._subject)
        except nats.js.errors.NotFoundError:
            return 0, 0
        assert last.data is not None and last.seq is not None
        return last.seq, decode_page(last.data)[-1].notification_id

    async def _find_place(self, conn: asyncpg.Connection) -> None:
        """Where the stream stands, checked against where the store does. The stream is read
        first: a page is published only once committed, so the store, read after it, reaches at
        least as far unless it really is behind."""
        sequence, position = await self._stream_head()
        stored = await self._store.max_notification_id(conn)
        if position > stored:
            raise StoreBehindStream(self.context, self._stream, position, stored)
        self._last_sequence, self.position = sequence, position

    async def _run(self) -> None:
        retry = Retry(log, f"publisher {self.context}", "publishing failed")
        try:
            while not stop_requested() and self.stopped_by is None:
                await retry(self._publish_then_wait)
        finally:
            await _close(self._listener)
            self._listener = None

    async def _publish_then_wait(self) -> None:
        """Publish what is pending, then wait for the next commit's notification (or the poll).
        A failure closes the LISTEN connection: the next try opens a new one."""
        try:
            if self._listener is None or self._listener.is_closed():
                self._listener = await asyncpg.connect(self._database_url)
                await self._listener.add_listener(self._channel, self._on_notify)
                self._last_sequence = None  # learnt again from the stream
            self._wake.clear()
            started = asyncio.get_running_loop().time()
            try:
                sent = await self.publish_pending(self._listener)
            except StoreBehindStream as error:
                self._stop_for(error)
                return
            if sent:
                left = started + self._gather_seconds - asyncio.get_running_loop().time()
                await asyncio.sleep(max(left, 0.0))
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await self._wake.wait()
        except Exception:
            await _close(self._listener)
            self._listener = None
            raise

    def _stop_for(self, error: StoreBehindStream) -> None:
        """Stop for good, visibly: the log, `stopped_by` (the node's /health) and `halted()`
        (`tessera publish` exits)."""
        log.error("publisher %s: %s", self.context, error)
        self.stopped_by = error
        self._halted.set()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def publish_pending(self, conn: asyncpg.Connection | None = None) -> int:
        """Publish everything committed after `position`; returns how many events went out.
        The pages are read on `conn` (the publisher's own LISTEN connection: no pool round trip
        and one prepared statement, for a publisher woken after every commit), else on a pooled
        one."""
        if conn is None:
            async with self._store.connection() as pooled:
                return await self.publish_pending(pooled)
        sent = 0
        while True:
            if self._last_sequence is None:
                await self._find_place(conn)
            # The page and the stream's last message it follows, read together: a page is
            # published after that message or not at all, even if another call of this
            # publisher moved on while the page was read.
            sequence: int | None = self._last_sequence
            page = await self._store.page_after(conn, self.position, self._batch)
            if not page:
                return sent
            for chunk in _chunks(page):
                sequence = await self._publish(chunk, after=sequence)
                if sequence is None:
                    self._last_sequence = None  # someone else published: find the place again
                    break
                sent += len(chunk)
            else:
                if len(page) < self._batch:
                    return sent

    async def _publish(self, chunk: list[Recorded], *, after: int | None) -> int | None:
        """One message, if the context's last message is still the stream sequence `after`;
        returns the message's sequence, or None when it is not (nothing was stored)."""
        last = chunk[-1].notification_id
        headers = {
            "Nats-Msg-Id": f"{self.context}:{last}",
            "Nats-Expected-Last-Subject-Sequence": str(after),
        }
        try:
            ack = await self._js.publish(
                self._subject, encode_page(chunk), timeout=self._ack_timeout, headers=headers
            )
        except nats.js.errors.BadRequestError as error:
            if error.err_code == _WRONG_LAST_SEQUENCE:
                return None
            raise
        if ack.duplicate:  # this very page is there already (an ack that was lost)
            return None
        self._last_sequence = ack.seq
        self.position = last
        self.published += len(chunk)
        return ack.seq


def _chunks(page: list[Recorded]) -> Iterator[list[Recorded]]:
    """The page in order, cut where a message would grow past `MAX_MESSAGE_BYTES`."""
    chunk: list[Recorded] = []
    size = 0
    for event in page:
        cost = len(event.state) + len(event.topic) + 48  # the envelope's other fields, at most
        if chunk and size + cost > MAX_MESSAGE_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(event)
        size += cost
    yield chunk


async def _close(connection: asyncpg.Connection | None) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close(timeout=2)
