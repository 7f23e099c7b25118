"""Token buckets, per key (an account, an IP address), kept in the node's memory."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimited(Exception):
    code = "rate_limited"

    def __init__(self, wait_ms: int) -> None:
        super().__init__(f"too many requests: wait {wait_ms} ms")
        self.wait_ms = wait_ms


class Limiter:
    """`rate` tokens a second up to `burst`; each call takes one. A rate of 0 never limits."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> None:
        if self._rate <= 0:
            return
        now = self._clock()
        tokens, at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise RateLimited(int((1.0 - tokens) / self._rate * 1000) + 1)
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self._max_keys:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled carries no information: drop those to bound memory.
        refill = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}
