"""The history projection: durable keyframes of every canvas, for the board at any moment.

Pure: canvas events in, keyframes out. A keyframe is the whole board at a version that is a
multiple of `every`, with the time of the event that made that version; it is kept for the
canvas's life, so any past board costs one keyframe plus at most `every - 1` events after it.
Every `maps_every`-th keyframe also keeps the analysts' maps (each pixel's paintings and the
version that painted it last): four bytes a pixel each, where the board has one, and the
last-touch map hardly compresses, so keeping them with every keyframe made the history five
times the size of the events it was built from.
`paint` is the one way both the projection and the readers apply events to a board.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import msgspec
import numpy as np

from projections.canvas.bitmap import (
    RESET,
    TOPIC_CLEARED,
    TOPIC_CREATED,
    TOPIC_FILLED,
    TOPIC_PLACED,
    TOPICS,
    apply_entries,
)
from projections.canvas.stored import (
    decode_created,
    decode_filled,
    placement_columns,
    run_columns,
)
from projections.recorded import Columns, Recorded

PAINTING: tuple[str, ...] = (TOPIC_PLACED, TOPIC_FILLED, TOPIC_CLEARED)
"""The topics that change a board's pixels: all that `paint_columns` needs to read."""


class _Stamped(msgspec.Struct):
    timestamp: datetime


_decode_stamped = msgspec.msgpack.Decoder(_Stamped).decode


def event_time(state: bytes) -> datetime:
    """When an event of any canvas topic happened (its stored `timestamp`)."""
    return _decode_stamped(state).timestamp


def _paint_run(pixels: np.ndarray, width: int, run: Sequence[Recorded]) -> None:
    xs, ys, colours = run_columns(run)
    apply_entries(pixels, ((ys * width + xs) << 5) | colours)


def runs(events: Sequence[Recorded]) -> Iterator[Sequence[Recorded] | Recorded]:
    """One canvas's events in order: each run of consecutive placements as one sequence (to
    decode together: `stored.run_columns`), every other event on its own."""
    start, end = 0, len(events)
    while start < end:
        if events[start].topic == TOPIC_PLACED:
            stop = start + 1
            while stop < end and events[stop].topic == TOPIC_PLACED:
                stop += 1
            yield events[start:stop]
            start = stop
        else:
            yield events[start]
            start += 1


def paint(pixels: np.ndarray, width: int, events: Sequence[Recorded]) -> None:
    """Apply one canvas's events, in version order, to its flat board (one byte per pixel)."""
    for item in runs(events):
        if not isinstance(item, Recorded):  # a run of placements
            _paint_run(pixels, width, item)
        elif item.topic == TOPIC_FILLED:
            f = decode_filled(item.state)
            grid = pixels.reshape(-1, width)
            grid[f.y : f.y + f.height, f.x : f.x + f.width] = f.colour
        elif item.topic == TOPIC_CLEARED:
            pixels[:] = 0


def paint_columns(pixels: np.ndarray, width: int, page: Columns, start: int = 0,
                  stop: int | None = None) -> None:
    """`paint` for one canvas's events [start, stop) of a page read as columns (in version
    order): each run of placements is decoded in one call, without an object per event."""
    for topic, first, end in _topic_runs(page, start, len(page) if stop is None else stop):
        if topic == TOPIC_PLACED:
            xs, ys, colours = placement_columns(page.state_span(first, end), end - first)
            apply_entries(pixels, ((ys * width + xs) << 5) | colours)
        else:  # fills and clears, one by one (any other topic paints nothing)
            paint(pixels, width, [page.event(i) for i in range(first, end)])


def _topic_runs(page: Columns, start: int, stop: int) -> Iterator[tuple[str, int, int]]:
    """Each stretch [first, end) of events of one topic among [start, stop), with its topic."""
    if stop <= start:
        return
    codes = page.topic_codes[start:stop]
    bounds = [start, *(np.flatnonzero(codes[1:] != codes[:-1]) + 1 + start).tolist(), stop]
    for first, end in itertools.pairwise(bounds):
        yield page.topic(first), first, end


def tally(heat: np.ndarray, touched: np.ndarray, width: int, events: Sequence[Recorded]) -> None:
    """Count each pixel's paintings (`heat`) and note the version that painted it last
    (`touched`), for one canvas's events in version order. A clear paints nothing."""
    for item in runs(events):
        if not isinstance(item, Recorded):  # a run of placements
            xs, ys, _ = run_columns(item)
            versions = np.fromiter((e.originator_version for e in item), dtype=np.uint32,
                                   count=len(item))
            _tally_placements(heat, touched, ys * width + xs, versions)
        elif item.topic == TOPIC_FILLED:
            _tally_fill(heat, touched, width, item.state, item.originator_version)


def tally_columns(heat: np.ndarray, touched: np.ndarray, width: int, page: Columns) -> None:
    """`tally` for one canvas's events read as columns (in version order)."""
    for topic, first, end in _topic_runs(page, 0, len(page)):
        if topic == TOPIC_PLACED:
            xs, ys, _ = placement_columns(page.state_span(first, end), end - first)
            _tally_placements(heat, touched, ys * width + xs,
                              page.versions[first:end].astype(np.uint32))
        elif topic == TOPIC_FILLED:
            for i in range(first, end):
                _tally_fill(heat, touched, width, page.state_span(i, i + 1),
                            int(page.versions[i]))


def _tally_placements(heat: np.ndarray, touched: np.ndarray, indices: np.ndarray,
                      versions: np.ndarray) -> None:
    np.add.at(heat, indices, 1)
    np.maximum.at(touched, indices, versions)  # versions grow: the last one wins


def _tally_fill(heat: np.ndarray, touched: np.ndarray, width: int, state: bytes,
                version: int) -> None:
    f = decode_filled(state)
    heat.reshape(-1, width)[f.y : f.y + f.height, f.x : f.x + f.width] += 1
    touched.reshape(-1, width)[f.y : f.y + f.height, f.x : f.x + f.width] = version


class Maps(NamedTuple):
    heat: np.ndarray
    """Paintings of each pixel since creation (uint32)."""
    touched: np.ndarray
    """The version that last painted each pixel, 0 for never (uint32)."""


class Keyframe(NamedTuple):
    canvas_id: UUID
    version: int
    at: datetime
    width: int
    height: int
    pixels: np.ndarray
    maps: Maps | None
    """The maps as of this version, kept with every `maps_every`-th keyframe only."""


@dataclass
class Tracked:
    """A canvas as the history follows it: its size, when it was created, its board now."""

    canvas_id: UUID
    width: int
    height: int
    created_at: datetime
    version: int
    pixels: np.ndarray | None = None
    maps: Maps | None = None

    def board(self) -> np.ndarray:
        if self.pixels is None:
            self.pixels = np.zeros(self.width * self.height, dtype=np.uint8)
        return self.pixels

    def counted(self) -> Maps:
        if self.maps is None:
            size = self.width * self.height
            self.maps = Maps(np.zeros(size, dtype=np.uint32), np.zeros(size, dtype=np.uint32))
        return self.maps


class HistoryBatch(NamedTuple):
    canvases: list[Tracked]
    """Every canvas the batch touched, as of its end (rows of the history's canvas table)."""
    keyframes: list[Keyframe]


class HistoryProjection:
    name = "history"
    topics = TOPICS

    def __init__(self, *, every: int, maps_every: int = 1) -> None:
        if every < 1 or maps_every < 1:
            raise ValueError("a keyframe every N versions, maps every M keyframes: N, M ≥ 1")
        self.every = every
        self.maps_every = maps_every
        self.canvases: dict[UUID, Tracked] = {}
        self._touched: dict[UUID, Tracked] = {}
        self._keyframes: list[Keyframe] = []

    def restore(self, canvas: Tracked) -> None:
        self.canvases[canvas.canvas_id] = canvas

    def apply(self, event: Recorded) -> None:
        self.apply_page([event])

    def apply_page(self, events: Sequence[Recorded]) -> None:
        """Consecutive events of the log: each canvas's run is painted at once, cut where a
        version falls on a keyframe."""
        start, end = 0, len(events)
        while start < end:
            canvas_id = events[start].originator_id
            stop = start + 1
            while stop < end and events[stop].originator_id == canvas_id:
                stop += 1
            self._apply_run(events[start:stop])
            start = stop

    def _apply_run(self, run: Sequence[Recorded]) -> None:
        first = run[0]
        canvas = self.canvases.get(first.originator_id)
        if first.topic == TOPIC_CREATED and canvas is None:
            created = decode_created(first.state)
            canvas = Tracked(first.originator_id, created.width, created.height,
                             created.timestamp, first.originator_version - 1)
            self.canvases[canvas.canvas_id] = canvas
        if canvas is None:
            return  # an event of a canvas this store never created: nothing to show
        self._touched[canvas.canvas_id] = canvas
        # Already applied (a replayed message): skip what the board has.
        run = [event for event in run if event.originator_version > canvas.version]
        while run:
            due = (canvas.version // self.every + 1) * self.every
            cut = 0
            while cut < len(run) and run[cut].originator_version <= due:
                cut += 1
            part, run = run[:cut], run[cut:]
            paint(canvas.board(), canvas.width, part)
            maps = canvas.counted()
            tally(maps.heat, maps.touched, canvas.width, part)
            canvas.version = part[-1].originator_version
            if canvas.version == due:
                kept = (Maps(maps.heat.copy(), maps.touched.copy())
                        if due // self.every % self.maps_every == 0 else None)
                self._keyframes.append(
                    Keyframe(canvas.canvas_id, due, event_time(part[-1].state), canvas.width,
                             canvas.height, canvas.board().copy(), kept)
                )

    def collect(self) -> HistoryBatch:
        batch = HistoryBatch(list(self._touched.values()), self._keyframes)
        self._touched, self._keyframes = {}, []
        return batch


def delta_entries(width: int, events: Sequence[Recorded]) -> np.ndarray:
    """A canvas's events in version order as the entries of a delta (`bitmap.encode_delta`):
    one `(y·width + x) << 5 | colour` per placement, every pixel of a fill, RESET for a clear."""
    parts: list[np.ndarray] = []
    for item in runs(events):
        if not isinstance(item, Recorded):  # a run of placements
            xs, ys, colours = run_columns(item)
            parts.append((((ys * width + xs) << 5) | colours).astype("<u4"))
        elif item.topic == TOPIC_FILLED:
            f = decode_filled(item.state)
            rows = np.arange(f.y, f.y + f.height, dtype=np.int64)[:, None] * width
            indices = (rows + np.arange(f.x, f.x + f.width, dtype=np.int64)).ravel()
            parts.append(((indices << 5) | f.colour).astype("<u4"))
        elif item.topic == TOPIC_CLEARED:
            parts.append(np.array([RESET], dtype="<u4"))
    return np.concatenate(parts) if parts else np.zeros(0, dtype="<u4")
