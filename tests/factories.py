"""Plain factories for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.canvas import Canvas

PALETTE = ["#ffffff", "#000000", "#ff0000", "#00ff00"]
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def a_canvas(
    *, width: int = 16, height: int = 8, cooldown_ms: int = 1000, palette: list[str] | None = None
) -> Canvas:
    return Canvas.create(
        canvas_id=uuid4(),
        title="test",
        width=width,
        height=height,
        palette=palette or PALETTE,
        cooldown_ms=cooldown_ms,
        now=T0,
    )
