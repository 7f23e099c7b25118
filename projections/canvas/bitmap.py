"""The bitmap projection: canvas events in, boards, delta chunks and snapshot candidates out.

Pure: the runner feeds it recorded events and asks what changed; the view writes that down.

A *chunk* covers the versions (from_version, to_version] of one canvas and holds the packed
entries that repaint them: a run of placements (one 4-byte entry each), a fill (its pixels), a
clear (the RESET entry) or a mark (versions that change no pixel: created, closed, reopened).
The live delta of a batch is the concatenation of its chunks behind a `from,to` header.
"""

from __future__ import annotations

import logging
import struct
import time
from array import array
from collections.abc import Sequence
from enum import IntEnum
from typing import NamedTuple
from uuid import UUID

import msgspec
import numpy as np

from projections.canvas.stored import (
    RUN_WORTH_DECODING_AT_ONCE,
    decode_created,
    decode_filled,
    decode_placed,
    placement_columns,
    run_columns,
)
from projections.recorded import Columns, Recorded

log = logging.getLogger(__name__)

HEADER = struct.Struct("<QQ")
RESET = 0xFFFFFFFF
"""An entry that means: every pixel goes back to colour 0 (a new season)."""
RELOAD = 0xFFFFFFFE
"""The only entry of a delta too large to send live: fetch the snapshot at its `to` version."""

TOPIC_CREATED = "domain.canvas:Canvas.Created"
TOPIC_PLACED = "domain.canvas:Canvas.PixelPlaced"
TOPIC_FILLED = "domain.canvas:Canvas.RectangleFilled"
TOPIC_CLEARED = "domain.canvas:Canvas.Cleared"
TOPIC_CLOSED = "domain.canvas:Canvas.Closed"
TOPIC_REOPENED = "domain.canvas:Canvas.Reopened"
TOPICS: tuple[str, ...] = (TOPIC_CREATED, TOPIC_PLACED, TOPIC_FILLED, TOPIC_CLEARED, TOPIC_CLOSED, TOPIC_REOPENED)


class ChunkKind(IntEnum):
    PIXELS = 0
    FILL = 1
    CLEAR = 2
    MARK = 3


class Chunk(NamedTuple):
    canvas_id: UUID
    from_version: int
    to_version: int
    kind: ChunkKind
    data: bytes


class CanvasMeta(msgspec.Struct, frozen=True):
    canvas_id: UUID
    title: str
    width: int
    height: int
    palette: list[str]
    cooldown_ms: int
    is_open: bool
    season: int
    version: int


# -- packing ----------------------------------------------------------------------------------


def pack(index: int, colour: int) -> int:
    return (index << 5) | colour


def encode_delta(from_version: int, to_version: int, entries: bytes) -> bytes:
    return HEADER.pack(from_version, to_version) + entries


def reload_delta(delta: bytes) -> bytes:
    """The stand-in for a delta too large for the live channel."""
    from_version, to_version = HEADER.unpack_from(delta)
    return encode_delta(from_version, to_version, struct.pack("<I", RELOAD))


def decode_delta(message: bytes) -> tuple[int, int, np.ndarray]:
    from_version, to_version = HEADER.unpack_from(message)
    return from_version, to_version, np.frombuffer(message, dtype="<u4", offset=HEADER.size)


def apply_entries(board: np.ndarray, entries: np.ndarray) -> None:
    """Repaint a flat board with packed entries, in order (later entries win)."""
    if entries.size == 0:
        return
    resets = np.flatnonzero(entries == RESET)
    if resets.size:
        board[:] = 0
        entries = entries[resets[-1] + 1 :]
        if entries.size == 0:
            return
    # Keep only the last entry of each pixel: fancy assignment does not promise an order.
    indices = (entries >> 5).astype(np.intp)
    reversed_indices = indices[::-1]
    _, first_in_reversed = np.unique(reversed_indices, return_index=True)
    last = entries.size - 1 - first_in_reversed
    board[indices[last]] = (entries[last] & 31).astype(np.uint8)


def trim_chunk(chunk: Chunk, after_version: int) -> bytes:
    """The entries of a chunk for the versions after `after_version` only."""
    if after_version <= chunk.from_version:
        return chunk.data
    if chunk.kind is not ChunkKind.PIXELS:
        return b""  # a single-version chunk the caller already has
    skip = after_version - chunk.from_version
    return chunk.data[4 * skip :]


# -- live state ---------------------------------------------------------------------------------


class Board:
    """One canvas as the projection holds it."""

    def __init__(self, meta: CanvasMeta, pixels: np.ndarray | None = None) -> None:
        self.meta = meta
        self.pixels = (
            pixels if pixels is not None else np.zeros(meta.width * meta.height, dtype=np.uint8)
        )
        self.version = meta.version
        self.committed_version = meta.version
        self.meta_changed = False
        self.snapshot_version = 0
        self.snapshot_at = 0.0
        self._run = array("I")
        self._run_from = meta.version
        self.chunks: list[Chunk] = []

    def place(self, version: int, x: int, y: int, colour: int) -> None:
        index = y * self.meta.width + x
        self.pixels[index] = colour
        self._run.append((index << 5) | colour)
        self.version = version

    def place_run(self, last_version: int, xs: np.ndarray, ys: np.ndarray, colours: np.ndarray) -> None:
        """`place` for consecutive placements, the last at `last_version`, painted at once."""
        entries = ((ys.astype(np.uint32) * self.meta.width + xs) << 5) | colours
        apply_entries(self.pixels, entries)
        self._run.frombytes(entries.astype("<u4").tobytes())
        self.version = last_version

    def fill(self, version: int, x: int, y: int, width: int, height: int, colour: int) -> None:
        self.close_run()
        grid = self.pixels.reshape(self.meta.height, self.meta.width)
        grid[y : y + height, x : x + width] = colour
        rows = np.arange(y, y + height, dtype=np.uint32)[:, None] * self.meta.width
        indices = (rows + np.arange(x, x + width, dtype=np.uint32)[None, :]).ravel()
        entries = (indices << 5) | np.uint32(colour)
        self._add_chunk(version, ChunkKind.FILL, entries.astype("<u4").tobytes())

    def clear(self, version: int) -> None:
        self.close_run()
        self.pixels[:] = 0
        self.meta = msgspec.structs.replace(self.meta, season=self.meta.season + 1)
        self.meta_changed = True
        self._add_chunk(version, ChunkKind.CLEAR, struct.pack("<I", RESET))

    def mark(self, version: int, **changes: object) -> None:
        self.close_run()
        if changes:
            self.meta = msgspec.structs.replace(self.meta, **changes)
            self.meta_changed = True
        self._add_chunk(version, ChunkKind.MARK, b"")

    def close_run(self) -> None:
        if self._run:
            self.chunks.append(
                Chunk(self.meta.canvas_id, self._run_from, self.version, ChunkKind.PIXELS,
                      self._run.tobytes())
            )
            self._run = array("I")
        self._run_from = self.version

    def _add_chunk(self, version: int, kind: ChunkKind, data: bytes) -> None:
        self.chunks.append(Chunk(self.meta.canvas_id, self.version, version, kind, data))
        self.version = version
        self._run_from = version


class Batch(NamedTuple):
    """What one batch of events changed: rows for the view, deltas to publish after commit."""

    chunks: list[Chunk]
    metas: list[CanvasMeta]
    deltas: list[tuple[UUID, bytes]]
    snapshots: list[tuple[UUID, int, int, int, np.ndarray]]


class BitmapProjection:
    name = "bitmap"
    topics = TOPICS

    def __init__(self, *, snapshot_every: int = 10_000, snapshot_seconds: float = 30.0) -> None:
        self.boards: dict[UUID, Board] = {}
        self._touched: dict[UUID, Board] = {}
        self._snapshot_every = snapshot_every
        self._snapshot_seconds = snapshot_seconds

    def restore(self, board: Board) -> None:
        self.boards[board.meta.canvas_id] = board

    def apply_page(self, events: Sequence[Recorded]) -> None:
        """`apply` for consecutive events of the log: each run of placements on one canvas is
        decoded in one call and painted with numpy, not one Python object at a time."""
        start, end = 0, len(events)
        while start < end:
            first = events[start]
            stop = start + 1
            if first.topic == TOPIC_PLACED:
                canvas_id = first.originator_id
                while (stop < end and events[stop].topic == TOPIC_PLACED
                       and events[stop].originator_id == canvas_id):
                    stop += 1
            if stop - start < RUN_WORTH_DECODING_AT_ONCE:
                for event in events[start:stop]:
                    self.apply(event)
            else:
                board = self._board(first.originator_id)
                if board is not None:
                    run = events[start:stop]
                    xs, ys, colours = run_columns(run)
                    board.place_run(run[-1].originator_version, xs, ys, colours)
            start = stop

    def apply_columns(self, page: Columns) -> None:
        """`apply_page` for a page read as columns (a rebuild): a run of placements on one
        canvas goes from the page's buffers to the board without an object per event."""
        placed = page.topics.index(TOPIC_PLACED) if TOPIC_PLACED in page.topics else -1
        for start, stop in page.runs():
            if page.topic_codes[start] != placed or stop - start < RUN_WORTH_DECODING_AT_ONCE:
                for i in range(start, stop):
                    self.apply(page.event(i))
                continue
            board = self._board(page.originator(start))
            if board is not None:
                xs, ys, colours = placement_columns(page.state_span(start, stop), stop - start)
                board.place_run(int(page.versions[stop - 1]), xs, ys, colours)

    def apply(self, event: Recorded) -> None:
        topic = event.topic
        if topic == TOPIC_PLACED:  # the hot path first
            board = self._board(event.originator_id)
            if board is not None:
                placed = decode_placed(event.state)
                board.place(event.originator_version, placed.x, placed.y, placed.colour)
            return
        match topic:
            case "domain.canvas:Canvas.Created":
                created = decode_created(event.state)
                meta = CanvasMeta(
                    canvas_id=event.originator_id,
                    title=created.title,
                    width=created.width,
                    height=created.height,
                    palette=created.palette,
                    cooldown_ms=created.cooldown_ms,
                    is_open=True,
                    season=1,
                    version=0,
                )
                board = Board(meta)
                self.boards[meta.canvas_id] = board
                self._touched[meta.canvas_id] = board
                board.mark(event.originator_version)
                board.meta_changed = True
            case _:
                board = self._board(event.originator_id)
                if board is not None:
                    self._change(board, event)

    @staticmethod
    def _change(board: Board, event: Recorded) -> None:
        match event.topic:
            case "domain.canvas:Canvas.RectangleFilled":
                f = decode_filled(event.state)
                board.fill(event.originator_version, f.x, f.y, f.width, f.height, f.colour)
            case "domain.canvas:Canvas.Cleared":
                board.clear(event.originator_version)
            case "domain.canvas:Canvas.Closed":
                board.mark(event.originator_version, is_open=False)
            case "domain.canvas:Canvas.Reopened":
                board.mark(event.originator_version, is_open=True)
            case _:
                pass  # a canvas event this read model does not show

    def _board(self, canvas_id: UUID) -> Board | None:
        board = self._touched.get(canvas_id)
        if board is None:
            board = self.boards.get(canvas_id)
            if board is None:
                # Only a stream that does not belong to this store can say so; never crash on it.
                log.error("bitmap: event for unknown canvas %s skipped", canvas_id)
                return None
            self._touched[canvas_id] = board
        return board

    def collect(self, *, now: float | None = None) -> Batch:
        """Close the batch: every touched canvas's chunks, meta, delta and due snapshots."""
        now = time.monotonic() if now is None else now
        batch = Batch([], [], [], [])
        for canvas_id, board in self._touched.items():
            board.close_run()
            if not board.chunks:
                continue
            batch.chunks.extend(board.chunks)
            entries = b"".join(chunk.data for chunk in board.chunks)
            batch.deltas.append(
                (canvas_id, encode_delta(board.committed_version, board.version, entries))
            )
            board.chunks = []
            board.meta = msgspec.structs.replace(board.meta, version=board.version)
            batch.metas.append(board.meta)
            board.meta_changed = False
            board.committed_version = board.version
            if self._snapshot_due(board, now):
                board.snapshot_version = board.version
                board.snapshot_at = now
                batch.snapshots.append(
                    (canvas_id, board.version, board.meta.width, board.meta.height,
                     board.pixels.copy())
                )
        self._touched = {}
        return batch

    def _snapshot_due(self, board: Board, now: float) -> bool:
        every = self._snapshot_every
        if board.version // every > board.snapshot_version // every:
            return True
        return board.version > board.snapshot_version and (
            now - board.snapshot_at >= self._snapshot_seconds
        )


def board_at(
    base: np.ndarray, base_version: int, chunks: list[Chunk], version: int
) -> np.ndarray:
    """A board at `version`, from a board at `base_version` and the chunks that follow it."""
    board = base.copy()
    for chunk in chunks:
        if chunk.to_version <= base_version or chunk.from_version >= version:
            continue
        data = trim_chunk(chunk, base_version)
        if chunk.to_version > version:  # only a run of placements can be cut in the middle
            data = data[: 4 * (version - max(chunk.from_version, base_version))]
        apply_entries(board, np.frombuffer(data, dtype="<u4"))
    return board
