"""Failed connects and reconnects, counted so that guessing an int32 secret stays out of reach:
per address, per room (from everyone), and per room and address, which locks that address out
of the room after a few wrong secrets. Counts live in fixed windows and are forgotten with them;
only failures count, so a client that knows its secrets never notices."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from domain.relay.errors import TooManyAttempts

PRUNE_EVERY = 1024
"""Failures between two sweeps of expired counts (memory stays bounded by a window's worth)."""


@dataclass
class _Count:
    until: float
    failures: int = 0


class AttemptLimiter:
    def __init__(
        self,
        *,
        window_s: float,
        per_ip: int,
        per_room: int,
        lockout_after: int,
        lockout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window_s = window_s
        self._per_ip = per_ip
        self._per_room = per_room
        self._lockout_after = lockout_after
        self._lockout_s = lockout_s
        self._clock = clock
        self._ips: dict[str, _Count] = {}
        self._rooms: dict[int, _Count] = {}
        self._lockouts: dict[tuple[int, str], _Count] = {}
        self._since_prune = 0

    def check(self, address: str, room: int | None) -> None:
        """Raises `TooManyAttempts` while `address` (or `room`) must wait."""
        now = self._clock()
        self._refuse_if_over(self._ips.get(address), self._per_ip, now, "from this address")
        if room is None:
            return
        self._refuse_if_over(
            self._lockouts.get((room, address)),
            self._lockout_after,
            now,
            "locked out of this room after wrong secrets",
        )
        self._refuse_if_over(self._rooms.get(room), self._per_room, now, "for this room")

    def failed(self, address: str, room: int | None) -> None:
        now = self._clock()
        self._count(self._ips, address, now, self._window_s)
        if room is not None:
            self._count(self._rooms, room, now, self._window_s)
            self._count(self._lockouts, (room, address), now, self._lockout_s)
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self.prune(now)

    def prune(self, now: float) -> None:
        self._since_prune = 0
        for counts in (self._ips, self._rooms, self._lockouts):
            for key in [k for k, count in counts.items() if count.until <= now]:
                del counts[key]  # type: ignore[arg-type]

    @staticmethod
    def _count(counts: dict, key: object, now: float, window_s: float) -> None:  # type: ignore[type-arg]
        count = counts.get(key)
        if count is None or count.until <= now:
            count = counts[key] = _Count(now + window_s)
        count.failures += 1

    @staticmethod
    def _refuse_if_over(count: _Count | None, limit: int, now: float, what: str) -> None:
        if count is not None and count.until > now and count.failures >= limit:
            wait_ms = max(1, math.ceil((count.until - now) * 1000))
            raise TooManyAttempts(f"too many failed connects {what}: wait", wait_ms)
