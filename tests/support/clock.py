"""A clock the test moves by hand (milliseconds, like `infra.canvas.presence.wall_clock_ms`; or as
a UTC datetime, like `commands.clock.utc_now`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class ManualClock:
    def __init__(self) -> None:
        self.now_ms = int(time.time() * 1000)

    def __call__(self) -> int:
        return self.now_ms

    def utc_now(self) -> datetime:
        """The same moment for what takes a `Callable[[], datetime]` (`IdentityParts.clock`)."""
        return datetime.fromtimestamp(self.now_ms / 1000, UTC)

    def advance(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)
