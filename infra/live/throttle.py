"""A coalescing rate limit: at most one send per interval; what comes sooner waits, and only the
latest of what waited goes out (presence is a state, not a log: older states are dropped)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Throttle(Generic[T]):
    def __init__(
        self,
        send: Callable[[T], object],
        *,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval_s = interval_s
        self._clock = clock
        self._last = -math.inf
        self._pending: T | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.sent = 0
        self.dropped = 0

    def offer(self, item: T) -> None:
        """Send now if the last send is an interval ago, else keep it for the next slot."""
        if self._timer is None:
            wait = self._last + self._interval_s - self._clock()
            if wait <= 0:
                self._emit(item)
                return
            self._timer = asyncio.get_running_loop().call_later(wait, self._flush)
        elif self._pending is not None:
            self.dropped += 1
        self._pending = item

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending = None

    def _flush(self) -> None:
        self._timer = None
        item, self._pending = self._pending, None
        if item is not None:
            self._emit(item)

    def _emit(self, item: T) -> None:
        self._last = self._clock()
        self.sent += 1
        self._send(item)
