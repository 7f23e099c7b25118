"""A clock the test moves by hand (milliseconds, like `infra.canvas.presence.wall_clock_ms`)."""

from __future__ import annotations

import time


class ManualClock:
    def __init__(self) -> None:
        self.now_ms = int(time.time() * 1000)

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)
