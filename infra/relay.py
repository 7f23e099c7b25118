"""The relay: follows a context's notification log and publishes every event to JetStream.

Commit order is log order (the library locks the table for every insert), so reading forward from
the last published notification id never skips an event. Each message carries
`Nats-Msg-Id = <context>:<notification id>`: a batch that is published again after a failure is
deduplicated by the stream. On start the relay asks the stream for the last message of its
context, so a restart neither skips nor repeats. LISTEN/NOTIFY wakes it; a slow poll covers a
lost notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from infra import tasks
from infra.store_reader import StoreReader
from infra.tasks import stop_requested
from projections.recorded import Recorded, decode_envelope, encode_envelope

log = logging.getLogger(__name__)


async def ensure_stream(
    js: JetStreamContext, name: str, subjects: list[str], *, duplicate_window: float = 120.0
) -> None:
    config = StreamConfig(name=name, subjects=subjects, duplicate_window=duplicate_window)
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError:
        await js.update_stream(config)


class Relay:
    def __init__(
        self,
        *,
        context: str,
        store: StoreReader,
        channel: str,
        database_url: str,
        nc: NATS,
        js: JetStreamContext,
        stream: str,
        subject_prefix: str,
        batch: int = 500,
        poll_seconds: float = 1.0,
        ack_timeout: float = 5.0,
    ) -> None:
        self.context = context
        self._store = store
        self._channel = channel
        self._database_url = database_url
        self._nc = nc
        self._js = js
        self._stream_sequence: int | None = None
        self._stream = stream
        self._subject_prefix = subject_prefix  # e.g. "tessera.ev.canvas"
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._ack_timeout = ack_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.position = 0
        self.published = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"relay-{self.context}")

    async def stop(self) -> None:
        await tasks.stop(self._task)
        self._task = None

    async def published_position(self) -> int:
        """The notification id of the context's last event in the stream (0 if none)."""
        try:
            last = await self._js.get_last_msg(self._stream, f"{self._subject_prefix}.>")
        except nats.js.errors.NotFoundError:
            return 0
        assert last.data is not None
        return decode_envelope(last.data).notification_id

    async def _run(self) -> None:
        listener: asyncpg.Connection | None = None
        try:
            while not stop_requested():
                try:
                    if listener is None or listener.is_closed():
                        listener = await asyncpg.connect(self._database_url)
                        await listener.add_listener(self._channel, self._on_notify)
                        self.position = await self.published_position()
                        self._stream_sequence = None  # learnt again from the next ack
                    self._wake.clear()
                    if await self.relay_pending(listener) == 0:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(self._poll_seconds):
                                await self._wake.wait()
                except Exception:
                    log.exception(
                        "relay %s: will retry from the stream's last message", self.context
                    )
                    await _close(listener)
                    listener = None
                    await asyncio.sleep(0.5)
        finally:
            await _close(listener)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def relay_pending(self, conn: asyncpg.Connection | None = None) -> int:
        """Publish everything committed after `position`; returns how many events went out.
        The pages are read on `conn` (the relay's own LISTEN connection: no pool round trip and
        one prepared statement, for a relay woken after every commit), else on a pooled one."""
        if conn is None:
            async with self._store.connection() as pooled:
                return await self.relay_pending(pooled)
        sent = 0
        while True:
            page = await self._store.page_after(conn, self.position, self._batch)
            if not page:
                return sent
            if not await self._publish_with_one_ack(page):
                await self._publish_with_every_ack(page)
            self.position = page[-1].notification_id
            sent += len(page)
            self.published += len(page)
            if len(page) < self._batch:
                return sent

    def _message(self, event: Recorded) -> tuple[str, bytes, dict[str, str]]:
        return (
            f"{self._subject_prefix}.{event.originator_id}",
            encode_envelope(event),
            {"Nats-Msg-Id": f"{self.context}:{event.notification_id}"},
        )

    async def _publish_with_one_ack(self, page: list[Recorded]) -> bool:
        """All but the last event without waiting, then the last one expecting the stream's
        sequence to be exactly where the whole page lands: the stream refuses it otherwise. One
        round trip a page while this relay is the stream's only writer; anything else (another
        context's relay in between, a lost or deduplicated message) answers False."""
        if self._stream_sequence is None:
            return False
        for event in page[:-1]:
            subject, payload, headers = self._message(event)
            await self._nc.publish(subject, payload, headers=headers)
        subject, payload, headers = self._message(page[-1])
        headers["Nats-Expected-Last-Sequence"] = str(self._stream_sequence + len(page) - 1)
        try:
            ack = await self._js.publish(
                subject, payload, timeout=self._ack_timeout, headers=headers
            )
        except nats.js.errors.BadRequestError:  # wrong last sequence
            self._stream_sequence = None
            return False
        if ack.duplicate:
            self._stream_sequence = None
            return False
        self._stream_sequence = ack.seq
        return True

    async def _publish_with_every_ack(self, page: list[Recorded]) -> None:
        """Each event with its own acknowledgement (repeats are dropped by the stream)."""
        acks = []
        for event in page:
            subject, payload, headers = self._message(event)
            acks.append(await self._js.publish_async(subject, payload, headers=headers))
        # A stream that does not answer within the timeout is treated as down: the futures are
        # cancelled (freeing their slots) and the page goes again after a reconnect.
        async with asyncio.timeout(self._ack_timeout):
            results = await asyncio.gather(*acks, return_exceptions=True)
        sequences = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            sequences.append(result.seq)
        self._stream_sequence = max(sequences)


async def _close(connection: asyncpg.Connection | None) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close(timeout=2)
