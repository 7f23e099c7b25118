"""The desk view: each live desk's stickers as registers, folded from the desk's events. Pure.

Events of one desk arrive in order, so folding them with the LWW merge gives the registers the
aggregate holds; the view only has to hand over the registers of the stickers a batch touches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain import lww
from projections.recorded import Recorded

_PREFIX = "domain.desk:Desk."


class _Created(msgspec.Struct):
    name: str
    timestamp: datetime


class _StickerChanged(msgspec.Struct):
    desk_seq: int
    sticker_id: str
    changes: dict[str, Any]
    stamp: tuple[int, int, str]
    timestamp: datetime


_created = msgspec.msgpack.Decoder(_Created)
_changed = msgspec.msgpack.Decoder(_StickerChanged)


class DeskRow(msgspec.Struct):
    desk_id: UUID
    name: str
    desk_seq: int
    last_edit_at: datetime


class DeskBatch(msgspec.Struct):
    """What a batch of events does to the view, in order of first appearance."""

    created: list[DeskRow]
    changes: list[tuple[UUID, _StickerChanged]]
    closed: list[UUID]
    sessions: list[UUID] = []
    """A desk per finished session (a desk twice when two finished)."""

    def touched(self) -> set[tuple[UUID, str]]:
        return {(desk_id, change.sticker_id) for desk_id, change in self.changes}


class DesksProjection:
    name = "desks"
    topics: tuple[str, ...] = tuple(
        _PREFIX + name
        for name in ("Created", "StickerCreated", "StickerEdited", "SessionFinished", "Closed")
    )

    def __init__(self) -> None:
        self.batch = DeskBatch([], [], [], [])

    def apply(self, event: Recorded) -> None:
        match event.topic.removeprefix(_PREFIX):
            case "Created":
                created = _created.decode(event.state)
                self.batch.created.append(
                    DeskRow(event.originator_id, created.name, 0, created.timestamp)
                )
            case "StickerCreated" | "StickerEdited":
                self.batch.changes.append((event.originator_id, _changed.decode(event.state)))
            case "SessionFinished":
                self.batch.sessions.append(event.originator_id)
            case "Closed":
                self.batch.closed.append(event.originator_id)

    def collect(self) -> DeskBatch:
        batch, self.batch = self.batch, DeskBatch([], [], [], [])
        return batch


def fold(
    changes: list[tuple[UUID, Any]], boards: dict[UUID, lww.Board]
) -> tuple[set[tuple[UUID, str]], dict[UUID, tuple[int, datetime]]]:
    """Merge the changes into `boards` (which holds the touched stickers' registers so far);
    returns the stickers changed and each desk's last seq and edit time."""
    dirty: set[tuple[UUID, str]] = set()
    heads: dict[UUID, tuple[int, datetime]] = {}
    for desk_id, change in changes:
        board = boards.setdefault(desk_id, {})
        if lww.merge(board, change.sticker_id, change.changes, tuple(change.stamp)).applied:
            dirty.add((desk_id, change.sticker_id))
        heads[desk_id] = (change.desk_seq, change.timestamp)
    return dirty, heads
