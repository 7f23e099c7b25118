"""Timelapse jobs: a canvas's history as a video (H.264 in MP4, VP9 in WebM, or a GIF), rendered
from one historical board (a keyframe plus events) and then the events themselves, a window of
versions at a time, read as columns (one read ahead while the last is painted and encoded);
never from full snapshots. A job's id is a digest of its parameters, so asking again
gives the same job; its progress is a row in `canvas_timelapses`, its file a blob."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import av
import msgspec
import numpy as np

from infra.blobs import BlobStore
from infra.canvas.history_view import HistoryView
from infra.canvas.stream_frames import palette_rgb
from infra.spine.readmodels import quote_ident
from projections.canvas.history import paint_columns
from projections.recorded import Columns

log = logging.getLogger(__name__)

FORMATS = {"mp4": ("mp4", "libx264", "yuv420p"), "webm": ("webm", "libvpx-vp9", "yuv420p"),
           "gif": ("gif", "gif", "pal8")}
MEDIA_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "gif": "image/gif"}
PAGE = 50_000

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.canvas_timelapses (
    job_id text PRIMARY KEY,
    canvas_id uuid NOT NULL,
    plan jsonb NOT NULL,
    status text NOT NULL,
    frames_done int NOT NULL DEFAULT 0,
    frames int NOT NULL,
    error text,
    size bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
"""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class Region(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    x: int
    y: int
    width: int
    height: int


class Plan(msgspec.Struct, frozen=True):
    """A timelapse, every choice made: which versions, which pixels, how big, in what."""

    canvas_id: UUID
    board_width: int
    board_height: int
    palette: list[str]
    from_version: int
    to_version: int
    frames: int
    fps: int
    scale: float
    region: Region
    format: str

    @property
    def job_id(self) -> str:
        digest = hashlib.sha256(msgspec.json.encode(self)).hexdigest()[:24]
        return f"tl-{digest}"

    @property
    def size(self) -> tuple[int, int]:
        """The frame's width and height (even, as H.264 and VP9 in 4:2:0 want)."""
        width = max(1, round(self.region.width * self.scale))
        height = max(1, round(self.region.height * self.scale))
        return width + width % 2, height + height % 2

    def version_of(self, frame: int) -> int:
        if self.frames == 1:
            return self.to_version
        span = self.to_version - self.from_version
        return self.from_version + (frame * span) // (self.frames - 1)


class Job(NamedTuple):
    job_id: str
    canvas_id: UUID
    status: str
    frames_done: int
    frames: int
    error: str | None
    size: int | None
    format: str
    created_at: datetime
    finished_at: datetime | None


class FrameEncoder:
    """Frames of board indices into a video file."""

    def __init__(self, path: Path, plan: Plan) -> None:
        container_format, codec, pix_fmt = FORMATS[plan.format]
        self.plan = plan
        self.container: Any = av.open(str(path), mode="w", format=container_format)
        stream: Any = self.container.add_stream(codec, rate=plan.fps)
        stream.width, stream.height = plan.size
        stream.pix_fmt = pix_fmt
        match plan.format:
            case "mp4":
                stream.options = {"preset": "veryfast", "crf": "20"}
            case "webm":
                stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "32",
                                  "b": "0", "row-mt": "1"}
        self.stream: Any = stream
        self.index = 0
        self.colours = palette_rgb(plan.palette)
        argb = np.zeros((256, 4), dtype=np.uint8)
        argb[:, 0] = 255
        argb[:, 1:] = self.colours
        self._argb = argb
        width, height = plan.size
        region = plan.region
        # nearest neighbour, up or down: the board pixel under each output pixel's centre
        self._rows = (plan.region.y + np.minimum(
            ((np.arange(height) + 0.5) * region.height / height).astype(np.intp),
            region.height - 1))
        self._cols = (plan.region.x + np.minimum(
            ((np.arange(width) + 0.5) * region.width / width).astype(np.intp),
            region.width - 1))

    def write(self, board: np.ndarray) -> None:
        """A frame of the board: its pixels cut and scaled as palette indices, the frame in the
        palette (`pal8`), which the encoder converts in C to what its codec takes. A 720×720
        frame costs 2–3 ms so; gathered through the palette into RGB first it cost 15 (a 2D
        fancy index, then `colours[cut]` alone 9–12)."""
        plan = self.plan
        grid = board.reshape(plan.board_height, plan.board_width)
        cut = np.take(np.take(grid, self._rows, axis=0), self._cols, axis=1)
        pair = (cut, self._argb)
        frame = av.VideoFrame.from_ndarray(pair, format="pal8")  # type: ignore[arg-type]
        frame.pts = self.index
        frame.time_base = Fraction(1, plan.fps)
        self.container.mux(self.stream.encode(frame))
        self.index += 1

    def close(self) -> None:
        try:
            self.container.mux(self.stream.encode())
        finally:
            self.container.close()


async def render(
    plan: Plan,
    history: HistoryView,
    path: Path,
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Render `plan` into `path`; the frames written."""
    board = await history.board_at(plan.canvas_id, plan.board_width, plan.board_height,
                                   plan.from_version)
    encoder = await asyncio.to_thread(FrameEncoder, path, plan)
    try:
        await asyncio.to_thread(encoder.write, board)
        frame = 1
        pages = history.pages_painting(plan.canvas_id, plan.from_version, plan.to_version, PAGE)
        async with contextlib.aclosing(pages):
            async for high, page in pages:
                frame = await asyncio.to_thread(_frames_upto, plan, encoder, board, page, high,
                                                frame)
                if progress is not None:
                    await progress(frame)
        while frame < plan.frames:  # only when from_version == to_version
            await asyncio.to_thread(encoder.write, board)
            frame += 1
    finally:
        await asyncio.to_thread(encoder.close)
    return frame


def _frames_upto(
    plan: Plan, encoder: FrameEncoder, board: np.ndarray, page: Columns | None, high: int,
    frame: int,
) -> int:
    """Paint a window's events (versions up to `high`), writing each frame whose version falls
    in the window when the board has reached it; the next frame."""
    start = 0
    while frame < plan.frames and (due := plan.version_of(frame)) <= high:
        if page is not None:
            stop = int(np.searchsorted(page.versions, due, side="right"))
            paint_columns(board, plan.board_width, page, start, stop)
            start = stop
        encoder.write(board)
        frame += 1
    if page is not None:
        paint_columns(board, plan.board_width, page, start)
    return frame


class Timelapses:
    """The jobs of one node: started here, readable from every node (their rows)."""

    def __init__(self, pool: asyncpg.Pool, schema: str, history: HistoryView,
                 blobs: BlobStore) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self.history = history
        self.blobs = blobs
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, plan: Plan) -> Job:
        """The job of `plan`: the existing one, or a new one started now. A job that failed,
        or whose node went away while it ran, starts again."""
        job_id = plan.job_id
        inserted = await self._pool.fetchval(
            f"INSERT INTO {self._s}.canvas_timelapses (job_id, canvas_id, plan, status, frames) "
            "VALUES ($1, $2, $3::jsonb, 'queued', $4) ON CONFLICT (job_id) DO UPDATE "
            "SET status = 'queued', frames_done = 0, error = NULL "
            "WHERE canvas_timelapses.status = 'failed' RETURNING true",
            job_id, plan.canvas_id, msgspec.json.encode(plan).decode(), plan.frames,
        )
        if inserted and job_id not in self._tasks:
            self._tasks[job_id] = asyncio.create_task(self._run(plan), name=job_id)
        job = await self.find(job_id)
        assert job is not None
        return job

    async def find(self, job_id: str) -> Job | None:
        row = await self._pool.fetchrow(
            f"SELECT job_id, canvas_id, status, frames_done, frames, error, size, "
            f"plan->>'format', created_at, finished_at FROM {self._s}.canvas_timelapses "
            "WHERE job_id = $1", job_id)
        return None if row is None else Job(*row)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in list(self._tasks.values()):
            try:
                await task
            except BaseException:  # noqa: BLE001, S110 - cancelled or failed: recorded already
                pass

    async def _run(self, plan: Plan) -> None:
        job_id = plan.job_id
        scratch = self.blobs.scratch(job_id)

        async def progress(done: int) -> None:
            await self._pool.execute(
                f"UPDATE {self._s}.canvas_timelapses SET frames_done = $2 WHERE job_id = $1",
                job_id, done)

        try:
            await self._pool.execute(
                f"UPDATE {self._s}.canvas_timelapses SET status = 'running' WHERE job_id = $1",
                job_id)
            frames = await render(plan, self.history, scratch, progress)
            self.blobs.keep(job_id, scratch)
            await self._pool.execute(
                f"UPDATE {self._s}.canvas_timelapses SET status = 'done', frames_done = $2, "
                "size = $3, finished_at = now() WHERE job_id = $1",
                job_id, frames, self.blobs.path(job_id).stat().st_size)
        except asyncio.CancelledError:
            await self._failed(job_id, "the node stopped")
            raise
        except Exception as error:
            log.exception("timelapse %s failed", job_id)
            await self._failed(job_id, type(error).__name__)
        finally:
            scratch.unlink(missing_ok=True)
            self._tasks.pop(job_id, None)

    async def _failed(self, job_id: str, why: str) -> None:
        try:
            await self._pool.execute(
                f"UPDATE {self._s}.canvas_timelapses SET status = 'failed', error = $2, "
                "finished_at = now() WHERE job_id = $1", job_id, why)
        except Exception:  # noqa: BLE001 - the database away: the row stays 'running'
            log.warning("timelapse %s: could not record its failure", job_id)
