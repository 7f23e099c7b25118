"""The canvas's reads, with the caches that make spectators cheap."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Protocol
from uuid import UUID

import numpy as np

from api.canvas.encoding import compress, palette_png
from api.errors import ApiError
from infra.canvas.pixel_view import PixelOwner
from projections.canvas.bitmap import CanvasMeta, Chunk, encode_delta, trim_chunk

BODY_CACHE_BYTES = 32 * 1024 * 1024
"""What the encoded bodies a node keeps take at most, all together. Bounded in bytes, not by
their number: a 4096×4096 board unencoded (`Accept-Encoding: identity`) is 16 MB a version, so
64 bodies could have held 1 GB; compressed, a busy 2000×2000 board is about 1.3 MB."""


class CanvasBoards(Protocol):
    """The bitmap read model (`infra.canvas.view.CanvasView`), as the reads and the canvas's
    handlers ask it."""

    async def list_canvases(self) -> list[CanvasMeta]: ...

    async def find_canvas(self, canvas_id: UUID) -> CanvasMeta | None: ...

    async def find_current(self) -> CanvasMeta | None: ...

    async def find_board(self, meta: CanvasMeta, version: int) -> np.ndarray | None:
        """The board at `version`, or None once what it needs has left the delta ring."""

    async def list_chunks(self, canvas_id: UUID, after: int, upto: int) -> list[Chunk]: ...

    async def oldest_version(self, canvas_id: UUID) -> int | None: ...


class PixelOwners(Protocol):
    """The pixel inspector's read model (`infra.canvas.pixel_view.PixelView`)."""

    async def find_owner(self, canvas_id: UUID, x: int, y: int) -> PixelOwner | None: ...


class CanvasReads:
    """Reads with the caches that make spectators cheap: the latest pointer and the current game
    for a second, encoded bodies of immutable versions while they are among the most recently
    asked for that fit in `body_bytes`."""

    def __init__(
        self,
        view: CanvasBoards,
        pixels: PixelOwners,
        *,
        latest_ttl: float,
        body_bytes: int = BODY_CACHE_BYTES,
    ) -> None:
        self.view = view
        self.pixels = pixels
        self._latest_ttl = latest_ttl
        self._latest: dict[UUID, tuple[float, CanvasMeta]] = {}
        self._bodies: OrderedDict[tuple[UUID, int, str], bytes] = OrderedDict()
        self._body_bytes = 0
        """What the bodies in `_bodies` take, together."""
        self._max_body_bytes = body_bytes
        self._current: tuple[float, CanvasMeta | None] = (0.0, None)
        self._asking_current: asyncio.Future[CanvasMeta | None] | None = None
        self._asking_canvas: dict[UUID, asyncio.Future[CanvasMeta | None]] = {}

    async def find_current(self) -> CanvasMeta | None:
        """The newest open canvas, as of at most `latest_ttl` ago. Every open page asks each poll
        interval; one query answers all that ask at once."""
        expires, meta = self._current
        if expires > time.monotonic():
            return meta
        if self._asking_current is None:
            self._asking_current = asyncio.ensure_future(self._ask_current())
        return await asyncio.shield(self._asking_current)

    async def _ask_current(self) -> CanvasMeta | None:
        try:
            meta = await self.view.find_current()
            self._current = (time.monotonic() + self._latest_ttl, meta)
            return meta
        finally:
            self._asking_current = None

    async def get_canvas(self, canvas_id: UUID, *, fresh: bool = False) -> CanvasMeta:
        """The canvas as of at most `latest_ttl` ago, or as stored now (`fresh`). Those who ask
        at once share one query: a node that takes over a canvas's players from a restarting
        one gets every one of their sockets and catch-ups within a second."""
        if fresh:
            meta = await self._ask_canvas(canvas_id)
        else:
            cached = self._latest.get(canvas_id)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            asking = self._asking_canvas.get(canvas_id)
            if asking is None:
                asking = asyncio.ensure_future(self._ask_canvas(canvas_id))
                self._asking_canvas[canvas_id] = asking
                asking.add_done_callback(lambda _: self._asking_canvas.pop(canvas_id, None))
            meta = await asyncio.shield(asking)
        if meta is None:
            raise ApiError("canvas_not_found", f"no canvas {canvas_id}")
        return meta

    async def _ask_canvas(self, canvas_id: UUID) -> CanvasMeta | None:
        asked = time.monotonic()
        meta = await self.view.find_canvas(canvas_id)
        if meta is not None:
            self._latest[canvas_id] = (asked + self._latest_ttl, meta)
        return meta

    async def deltas_since(self, canvas_id: UUID, since: int) -> bytes:
        """Everything after `since` as one delta (`GET …/deltas`, a live socket opened with
        `?since=`): `gone` when `since` has left the delta ring, `version_in_future` when it is
        beyond the canvas's version.

        A cached version will do: chunks after `since` say the canvas got that far, and a
        `since` beyond the cached version and every chunk is asked about afresh. (A fresh read
        for each was half the queries of a node's players catching up after a restart.)"""
        meta = await self.get_canvas(canvas_id)
        chunks = await self.view.list_chunks(canvas_id, since, 2**62)
        if not chunks and since > meta.version:
            meta = await self.get_canvas(canvas_id, fresh=True)
            if since > meta.version:
                raise ApiError(
                    "version_in_future", f"since={since} is after the current version {meta.version}"
                )
        # Gone: the ring starts after `since`, or holds nothing of the versions after it.
        gone = chunks[0].from_version > since if chunks else since < meta.version
        if gone:
            oldest = await self.view.oldest_version(canvas_id)
            raise ApiError(
                "gone", f"version {since} has left the delta ring", oldest_version=oldest
            )
        to_version = chunks[-1].to_version if chunks else since
        return encode_delta(since, to_version, b"".join(trim_chunk(c, since) for c in chunks))

    async def get_body(self, meta: CanvasMeta, version: int, form: str) -> bytes:
        """The board at `version` as raw bytes in an HTTP encoding, or as a PNG (`form="png"`)."""
        key = (meta.canvas_id, version, form)
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
            return body
        pixels = await self.view.find_board(meta, version)
        if pixels is None:
            oldest = await self.view.oldest_version(meta.canvas_id)
            raise ApiError("gone", f"version {version} is no longer kept", oldest_version=oldest
            )
        if form == "png":
            body = await asyncio.to_thread(
                palette_png, pixels, meta.width, meta.height, meta.palette
            )
        else:
            body = await asyncio.to_thread(compress, pixels.tobytes(), form)
        self._keep(key, body)
        return body

    def _keep(self, key: tuple[UUID, int, str], body: bytes) -> None:
        """Keep `body`, dropping the least recently asked for until all fit (a body bigger than
        the whole cache is not kept)."""
        if len(body) > self._max_body_bytes:
            return
        replaced = self._bodies.pop(key, None)  # two requests that missed at once
        if replaced is not None:
            self._body_bytes -= len(replaced)
        self._bodies[key] = body
        self._body_bytes += len(body)
        while self._body_bytes > self._max_body_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._body_bytes -= len(dropped)
