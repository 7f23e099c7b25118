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
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from infra.store_reader import StoreReader
from projections.recorded import decode_envelope, encode_envelope

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
        self._js = js
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
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
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
        while True:
            try:
                if listener is None or listener.is_closed():
                    listener = await asyncpg.connect(self._database_url)
                    await listener.add_listener(self._channel, self._on_notify)
                    self.position = await self.published_position()
                self._wake.clear()
                if await self.relay_pending() == 0:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            except asyncio.CancelledError:
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await listener.close()
                raise
            except Exception:
                log.exception("relay %s: will retry from the stream's last message", self.context)
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await listener.close()
                listener = None
                await asyncio.sleep(0.5)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def relay_pending(self) -> int:
        """Publish everything committed after `position`; returns how many events went out."""
        sent = 0
        async for page in self._store.read(self.position, page=self._batch):
            acks = []
            for event in page:
                acks.append(
                    await self._js.publish_async(
                        f"{self._subject_prefix}.{event.originator_id}",
                        encode_envelope(event),
                        headers={"Nats-Msg-Id": f"{self.context}:{event.notification_id}"},
                    )
                )
            # Advance only over the acknowledged prefix: what follows a failure goes again.
            # A stream that does not answer within the timeout is treated as down: the futures
            # are cancelled (freeing their slots) and the batch goes again after a reconnect.
            results = await asyncio.wait_for(
                asyncio.gather(*acks, return_exceptions=True), self._ack_timeout
            )
            for event, result in zip(page, results, strict=True):
                if isinstance(result, BaseException):
                    raise result
                self.position = event.notification_id
                sent += 1
                self.published += 1
        return sent
