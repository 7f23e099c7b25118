"""The canvas's history over HTTP: any past board (through the snapshot endpoints, which fall
back to the history when a version has left the delta ring) and the board at a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

import numpy as np
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.canvas.reads import CanvasBoards, CanvasReads
from api.errors import ApiError
from api.openapi import REDIRECT
from api.versions import parse_moment, required_seq
from commands.clock import utc_now
from projections.canvas.bitmap import CanvasMeta, Chunk, encode_delta
from projections.canvas.history import delta_entries
from projections.recorded import Recorded

MAX_REPLAY_SPAN = 100_000
"""Versions one `GET …/history` answers at most: a player of history asks again for more."""


class History(Protocol):
    """The history read model (`infra.canvas.history_view.HistoryView`), as the reads ask it."""

    async def board_at(
        self, canvas_id: UUID, width: int, height: int, version: int
    ) -> np.ndarray: ...

    async def version_at(self, canvas_id: UUID, moment: datetime) -> int: ...

    async def list_events(self, canvas_id: UUID, after: int, upto: int) -> list[Recorded]: ...


class HistoricalBoards:
    """The bitmap read model, with the history behind it: a board whose deltas have left the
    ring is rebuilt from its keyframe and the events after it."""

    def __init__(self, boards: CanvasBoards, history: History) -> None:
        self.boards = boards
        self.history = history

    async def list_canvases(self) -> list[CanvasMeta]:
        return await self.boards.list_canvases()

    async def find_canvas(self, canvas_id: UUID) -> CanvasMeta | None:
        return await self.boards.find_canvas(canvas_id)

    async def find_current(self) -> CanvasMeta | None:
        return await self.boards.find_current()

    async def find_board(self, meta: CanvasMeta, version: int) -> np.ndarray | None:
        board = await self.boards.find_board(meta, version)
        if board is not None:
            return board
        return await self.history.board_at(meta.canvas_id, meta.width, meta.height, version)

    async def list_chunks(self, canvas_id: UUID, after: int, upto: int) -> list[Chunk]:
        return await self.boards.list_chunks(canvas_id, after, upto)

    async def oldest_version(self, canvas_id: UUID) -> int | None:
        return await self.boards.oldest_version(canvas_id)


class HistoryController(Controller):
    path = "/api/canvas"
    tags = ("canvas history",)

    @get(
        "/{canvas_id:uuid}/at",
        status_code=307,
        responses={307: REDIRECT},
        refuses=("invalid_time", "time_in_future", "before_canvas", "unavailable"),
    )
    async def get_at(
        self,
        canvas_id: FromPath[UUID],
        reads: NamedDependency[CanvasReads],
        t: Annotated[str, Parameter(description="an ISO 8601 time (UTC when it names no zone)")],
        png: bool = False,
    ) -> Response[Any]:
        """Points (307) at the snapshot of the version that was current at `t`: the last one
        whose event happened at or before it."""
        moment = parse_moment(t)
        if moment > utc_now():
            raise ApiError("time_in_future", f"{t} has not happened yet")
        meta = await reads.get_canvas(canvas_id)
        history = reads.view
        if not isinstance(history, HistoricalBoards):
            raise ApiError("not_found", "this node keeps no history")
        version = await history.history.version_at(canvas_id, moment)
        if version == 0:
            raise ApiError("before_canvas", f"canvas {canvas_id} did not exist at {t}")
        if version > meta.version:
            meta = await reads.get_canvas(canvas_id, fresh=True)
            if version > meta.version:
                raise ApiError("unavailable", "the board has not caught up with that moment yet",
                               wait_ms=500)
        location = f"/api/canvas/{canvas_id}/snapshot/{version}" + ("/png" if png else "")
        return Response(b"", status_code=307, headers={"Location": location,
                                                        "X-Canvas-Version": str(version)})

    @get(
        "/{canvas_id:uuid}/history",
        media_type="application/octet-stream",
        refuses=("invalid_version", "invalid_replay", "version_not_found"),
    )
    async def get_history(
        self,
        canvas_id: FromPath[UUID],
        reads: NamedDependency[CanvasReads],
        since: Annotated[str, Parameter(description="the version the player holds (0 up)")],
        until: Annotated[str, Parameter(
            description=f"the last version wanted; at most {MAX_REPLAY_SPAN:,} after `since`")],
    ) -> Response[bytes]:
        """What happened in the versions (since, until], read from the event store, in the
        format of `GET …/deltas` (a 16-byte header, then a little-endian u32 per repainted
        pixel, 0xFFFFFFFF for a clear): a player of history loads the snapshot at `since` (a
        keyframe plus events) and applies these, a page of versions at a time."""
        first, last = required_seq(since, "since"), required_seq(until, "until")
        if first > last or last - first > MAX_REPLAY_SPAN:
            raise ApiError("invalid_replay",
                           f"since ({first}) to until ({last}): 0 to {MAX_REPLAY_SPAN:,} versions")
        meta = await reads.get_canvas(canvas_id)
        if last > meta.version:
            meta = await reads.get_canvas(canvas_id, fresh=True)
            if last > meta.version:
                raise ApiError("version_not_found",
                               f"canvas {canvas_id} has versions 1 to {meta.version}",
                               last=meta.version)
        history = reads.view
        if not isinstance(history, HistoricalBoards):
            raise ApiError("not_found", "this node keeps no history")
        events = await history.history.list_events(canvas_id, first, last)
        entries = delta_entries(meta.width, events)
        return Response(encode_delta(first, last, entries.tobytes()),
                        media_type="application/octet-stream",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})
