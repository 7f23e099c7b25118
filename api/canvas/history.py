"""The canvas's history over HTTP: any past board (through the snapshot endpoints, which fall
back to the history when a version has left the delta ring) and the board at a moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

import numpy as np
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.canvas.reads import CanvasBoards, CanvasReads
from api.errors import ApiError
from api.openapi import REDIRECT
from commands.clock import utc_now
from projections.canvas.bitmap import CanvasMeta, Chunk


class History(Protocol):
    """The history read model (`infra.canvas.history_view.HistoryView`), as the reads ask it."""

    async def board_at(
        self, canvas_id: UUID, width: int, height: int, version: int
    ) -> np.ndarray: ...

    async def version_at(self, canvas_id: UUID, moment: datetime) -> int: ...


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


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ApiError("invalid_time", f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
