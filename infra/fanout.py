"""Live fan-out on one node: one core NATS subscription per canvas, copied into a bounded queue
per local connection. A connection whose queue is full is told to resync and is dropped; it
never slows the others, and a NATS subscription lives only while the canvas has listeners here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NATS

log = logging.getLogger(__name__)

RESYNC = object()
"""Put in a listener's queue (where there is always room for it) when it fell behind."""


class Listener:
    """One connection's view of a canvas's live frames."""

    def __init__(self, capacity: int) -> None:
        # One slot more than the capacity: the resync notice always fits.
        self.queue: asyncio.Queue[Any] = asyncio.Queue(capacity + 1)
        self._capacity = capacity
        self.dropped = False

    def offer(self, frame: bytes) -> bool:
        """Queue a frame; True when this very frame found the queue full (the drop)."""
        if self.dropped:
            return False
        if self.queue.qsize() >= self._capacity:
            self.dropped = True
            self.queue.put_nowait(RESYNC)
            return True
        self.queue.put_nowait(frame)
        return False


class Fanout:
    def __init__(self, nc: NATS, subject: Callable[[str], str], *, capacity: int = 256) -> None:
        self._nc = nc
        self._subject = subject
        self._capacity = capacity
        self._listeners: dict[str, set[Listener]] = {}
        self._subscriptions: dict[str, Any] = {}
        self.slow_dropped = 0

    async def listen(self, key: str) -> Listener:
        listener = Listener(self._capacity)
        listeners = self._listeners.setdefault(key, set())
        listeners.add(listener)
        if key not in self._subscriptions:
            self._subscriptions[key] = None  # reserved: no second subscription meanwhile
            subscription = await self._nc.subscribe(self._subject(key), cb=self._deliver_to(key))
            if self._listeners.get(key):
                self._subscriptions[key] = subscription
            else:  # everyone left while it was being set up
                await subscription.unsubscribe()
        return listener

    async def leave(self, key: str, listener: Listener) -> None:
        listeners = self._listeners.get(key)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[key]
            subscription = self._subscriptions.pop(key, None)
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    def _deliver_to(self, key: str) -> Callable[[Any], Any]:
        async def deliver(message: Any) -> None:
            for listener in tuple(self._listeners.get(key, ())):
                if listener.offer(message.data):
                    self.slow_dropped += 1

        return deliver
