"""Who painted each pixel, for the pixel inspector. Pure: events in, pending changes out.

Placements are kept per pixel (the last one wins); an admin fill is kept as one rectangle, not
as a row per pixel; a clear forgets everything painted before it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from projections.recorded import Recorded

_PREFIX = "domain.canvas:Canvas."


class Painted(msgspec.Struct, frozen=True):
    canvas_id: UUID
    x: int
    y: int
    colour: int
    user: str
    version: int
    at: datetime


class Filled(msgspec.Struct, frozen=True):
    canvas_id: UUID
    x: int
    y: int
    width: int
    height: int
    colour: int
    user: str
    version: int
    at: datetime


class _Placed(msgspec.Struct):
    x: int
    y: int
    colour: int
    user: str
    timestamp: datetime


class _Filled(msgspec.Struct):
    x: int
    y: int
    width: int
    height: int
    colour: int
    user: str
    timestamp: datetime


_placed = msgspec.msgpack.Decoder(_Placed).decode
_filled = msgspec.msgpack.Decoder(_Filled).decode


class PixelOwnersProjection:
    topics: tuple[str, ...] = tuple(
        _PREFIX + name for name in ("PixelPlaced", "RectangleFilled", "Cleared")
    )

    def __init__(self) -> None:
        self.painted: dict[tuple[UUID, int, int], Painted] = {}
        self.filled: list[Filled] = []
        self.cleared: dict[UUID, int] = {}
        """Canvas → the version of its last clear in this batch: older rows are forgotten."""

    def apply(self, event: Recorded) -> None:
        canvas_id, version = event.originator_id, event.originator_version
        match event.topic:
            case "domain.canvas:Canvas.PixelPlaced":
                p = _placed(event.state)
                self.painted[canvas_id, p.x, p.y] = Painted(
                    canvas_id, p.x, p.y, p.colour, p.user, version, p.timestamp
                )
            case "domain.canvas:Canvas.RectangleFilled":
                f = _filled(event.state)
                self.filled.append(
                    Filled(canvas_id, f.x, f.y, f.width, f.height, f.colour, f.user, version,
                           f.timestamp)
                )
            case "domain.canvas:Canvas.Cleared":
                self.cleared[canvas_id] = version
                self.painted = {k: v for k, v in self.painted.items() if k[0] != canvas_id}
                self.filled = [f for f in self.filled if f.canvas_id != canvas_id]

    def collect(self) -> tuple[dict[UUID, int], list[Painted], list[Filled]]:
        changes = (self.cleared, list(self.painted.values()), self.filled)
        self.__init__()  # type: ignore[misc]
        return changes
