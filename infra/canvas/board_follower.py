"""A board kept current the way a browser keeps it: subscribe to the canvas's live deltas on
NATS, load the board from the bitmap read model, apply the deltas that follow on, fill a gap
from the delta ring, and load the board again when the ring cannot fill it (resync)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from uuid import UUID

import numpy as np
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from infra.canvas.view import CanvasView
from projections.canvas.bitmap import (
    RELOAD,
    RESET,
    CanvasMeta,
    apply_entries,
    board_at,
    decode_delta,
)

log = logging.getLogger(__name__)

QUEUE = 4096
"""Deltas waiting to be applied; beyond this the follower resyncs from the read model."""


class CanvasMissing(LookupError):
    """The canvas asked for is not in the bitmap read model."""


class BoardFollower:
    def __init__(self, view: CanvasView, nc: NATS, subject: str, canvas_id: UUID) -> None:
        self._view = view
        self._nc = nc
        self._subject = subject
        self.canvas_id = canvas_id
        self.meta: CanvasMeta | None = None
        self.board = np.zeros(0, dtype=np.uint8)
        self.version = 0
        self._dirty = np.ones(0, dtype=bool)
        """The board rows changed since the renderer last took them."""
        self.resyncs = 0
        self.gaps = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
        self._overflowed = False
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> CanvasMeta:
        """Subscribe, then load the board (deltas that arrive meanwhile wait in the queue)."""
        self._subscription = await self._nc.subscribe(self._subject, cb=self._received)
        meta = await self._load()
        self._task = asyncio.create_task(self._follow(), name=f"follow-{self.canvas_id}")
        return meta

    async def stop(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def changed(self) -> bool:
        """Whether the board changed since the renderer last took its rows."""
        return bool(self._dirty.any())

    def take_rows(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The board rows changed since the last take: their indices and a copy of them (None
        when none changed). A live canvas changes a few dozen rows a frame: copying those, not
        the 4 MB board, is what a frame costs the loop."""
        rows = np.flatnonzero(self._dirty)
        if not rows.size:
            return None
        self._dirty[rows] = False
        assert self.meta is not None
        return rows, self.board.reshape(-1, self.meta.width)[rows]

    def mark(self, rows: np.ndarray) -> None:
        """Rows taken for nothing (a frame dropped): the next take takes them again."""
        self._dirty[rows] = True

    async def _received(self, msg: Msg) -> None:
        try:
            self._queue.put_nowait(msg.data)
        except asyncio.QueueFull:
            self._overflowed = True

    async def _load(self, version: int | None = None) -> CanvasMeta:
        meta = await self._view.find_canvas(self.canvas_id)
        if meta is None:
            raise CanvasMissing(f"no canvas {self.canvas_id}")
        target = meta.version if version is None else min(version, meta.version)
        board = await self._view.find_board(meta, target)
        if board is None:  # the ring moved on while we asked: the latest board is kept
            target = meta.version
            board = await self._view.find_board(meta, target)
            assert board is not None, "the latest board is always in the read model"
        self.meta, self.board, self.version = meta, board, target
        self._dirty = np.ones(meta.height, dtype=bool)
        return meta

    async def _follow(self) -> None:
        while True:
            delta = await self._queue.get()
            try:
                await self._apply(delta)
            except asyncio.CancelledError:
                raise
            except Exception:  # the read model away: load the board again with the next delta
                log.warning("stream follower of %s: a delta failed; loading the board again",
                            self.canvas_id, exc_info=True)
                await asyncio.sleep(1.0)
                self._overflowed = True

    async def _apply(self, delta: bytes) -> None:
        if self._overflowed:
            self._overflowed = False
            await self._resync()
        start, end, entries = decode_delta(delta)
        if end <= self.version:
            return  # already in the board we loaded
        if entries.size == 1 and entries[0] == RELOAD:
            await self._load(end)
            return
        if start > self.version:
            self.gaps += 1
            if not await self._fill(start):
                await self._resync()
                return
        if start < self.version:  # overlaps what the board has: take it whole
            await self._load(end)
            return
        apply_entries(self.board, entries)
        self.version = end
        if (entries == RESET).any():
            self._dirty[:] = True
        else:
            assert self.meta is not None
            self._dirty[(entries >> 5) // self.meta.width] = True

    async def _fill(self, upto: int) -> bool:
        """Apply the ring's chunks from our version up to `upto`; False if it has left them."""
        chunks = await self._view.list_chunks(self.canvas_id, self.version, upto)
        if not chunks or chunks[0].from_version > self.version or chunks[-1].to_version < upto:
            return False
        self.board = board_at(self.board, self.version, chunks, upto)
        self.version = upto
        self._dirty[:] = True
        return True

    async def _resync(self) -> None:
        self.resyncs += 1
        while not self._queue.empty():
            self._queue.get_nowait()
        await self._load()
