"""Timelapses over HTTP: start a job (the same parameters give the same job), follow its
progress, download the video with range requests."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from api.canvas.parts import CanvasParts
from api.errors import ApiError
from api.versions import parse_moment
from commands.text import Line
from infra.canvas.timelapse import FORMATS, MEDIA_TYPES, Job, Plan, Region, Timelapses

Moment = Annotated[Line, msgspec.Meta(max_length=64)]
"""A short text from the client: an ISO time, a format."""
MAX_FRAMES = 36_000
MAX_SIZE = (3840, 2160)
CHUNK = 1 << 20


class TimelapseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, rename={
        "start": "from", "end": "to"}):
    start: int | Moment | None = None
    """The first version, or an ISO time (the version current then); default 1."""
    end: int | Moment | None = None
    """The last version or time; default the current version."""
    fps: int = 30
    seconds: float | None = None
    versions_per_frame: Annotated[int, msgspec.Meta(ge=1)] | None = None
    scale: float = 1.0
    """Output pixels per board pixel (below 1 shrinks), nearest neighbour."""
    region: Region | None = None
    format: Moment = "mp4"


class JobOut(msgspec.Struct):
    job: str
    status: str
    progress: float
    frames: int
    frames_done: int
    format: str
    url: str
    error: str | None = None
    size: int | None = None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(job.job_id, job.status, job.frames_done / max(job.frames, 1), job.frames,
                   job.frames_done, job.format,
                   f"/api/canvas/{job.canvas_id}/timelapse/{job.job_id}/file", job.error,
                   job.size)


def _refuse(detail: str) -> ApiError:
    return ApiError("invalid_timelapse", detail)


def _timelapses(canvas: CanvasParts) -> Timelapses:
    if canvas.timelapses is None:
        raise ApiError("not_found", "this node renders no timelapses")
    return canvas.timelapses


async def _version(timelapses: Timelapses, canvas_id: UUID, value: int | str, last: int) -> int:
    if isinstance(value, int):
        if not 1 <= value <= last:
            raise _refuse(f"version {value} is not between 1 and {last}")
        return value
    moment: datetime = parse_moment(value)
    version = await timelapses.history.version_at(canvas_id, moment)
    if version == 0:
        raise _refuse(f"the canvas did not exist at {value}")
    return min(version, last)


async def plan_of(timelapses: Timelapses, canvas: CanvasParts, canvas_id: UUID,
                  asked: TimelapseIn) -> Plan:
    meta = await canvas.reads.get_canvas(canvas_id, fresh=True)
    first = await _version(timelapses, canvas_id, asked.start if asked.start is not None else 1,
                           meta.version)
    last = await _version(timelapses, canvas_id, asked.end if asked.end is not None
                          else meta.version, meta.version)
    if first > last:
        raise _refuse(f"from ({first}) is after to ({last})")
    if asked.format not in FORMATS:
        raise _refuse(f"format {asked.format!r} is not one of {', '.join(FORMATS)}")
    if not 1 <= asked.fps <= 60:
        raise _refuse("fps is 1 to 60")
    region = asked.region or Region(0, 0, meta.width, meta.height)
    if (region.width < 1 or region.height < 1 or region.x < 0 or region.y < 0
            or region.x + region.width > meta.width or region.y + region.height > meta.height):
        raise _refuse(f"the region is not inside the {meta.width}×{meta.height} board")
    if not (0 < asked.scale <= 64 and 2 <= region.width * asked.scale <= MAX_SIZE[0]
            and 2 <= region.height * asked.scale <= MAX_SIZE[1]):
        raise _refuse(f"scale {asked.scale} does not give 2×2 to {MAX_SIZE[0]}×{MAX_SIZE[1]}")
    if asked.versions_per_frame is not None:
        frames = math.ceil((last - first) / asked.versions_per_frame) + 1
    else:
        seconds = 10.0 if asked.seconds is None else asked.seconds
        if not 0 < seconds:
            raise _refuse("seconds must be positive")
        frames = round(asked.fps * seconds)
    if not 1 <= frames <= MAX_FRAMES:
        raise _refuse(f"{frames} frames: 1 to {MAX_FRAMES}")
    return Plan(canvas_id, meta.width, meta.height, meta.palette, first, last, frames,
                asked.fps, asked.scale, region, asked.format)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (start, end inclusive) a `Range: bytes=…` header asks for; None for the whole."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    start_text, dash, end_text = spec.strip().partition("-")
    try:
        if unit.strip() != "bytes" or not dash or "," in spec:
            raise ValueError
        if start_text == "":
            start, end = max(0, size - int(end_text)), size - 1
        else:
            start = int(start_text)
            end = min(int(end_text), size - 1) if end_text else size - 1
    except ValueError:
        raise ApiError("range_not_satisfiable", f"cannot serve {header!r}",
                       size=size) from None
    if start > end or start >= size:
        raise ApiError("range_not_satisfiable", f"{header!r} is outside {size} bytes", size=size)
    return start, end


class TimelapseController(Controller):
    path = "/api/canvas"
    tags = ("canvas history",)

    @post("/{canvas_id:uuid}/timelapse", status_code=202)
    async def start(
        self, canvas_id: FromPath[UUID], data: TimelapseIn, canvas: NamedDependency[CanvasParts]
    ) -> JobOut:
        """Start rendering (or find) the timelapse of these parameters."""
        timelapses = _timelapses(canvas)
        plan = await plan_of(timelapses, canvas, canvas_id, data)
        return JobOut.of(await timelapses.start(plan))

    @get("/{canvas_id:uuid}/timelapse/{job:str}")
    async def get_job(
        self, canvas_id: FromPath[UUID], job: FromPath[str], canvas: NamedDependency[CanvasParts]
    ) -> JobOut:
        found = await _timelapses(canvas).find(job)
        if found is None or found.canvas_id != canvas_id:
            raise ApiError("not_found", f"no timelapse {job}")
        return JobOut.of(found)

    @get("/{canvas_id:uuid}/timelapse/{job:str}/file")
    async def get_file(
        self,
        canvas_id: FromPath[UUID],
        job: FromPath[str],
        request: Request[Any, Any, Any],
        canvas: NamedDependency[CanvasParts],
    ) -> Response[Any]:
        """The video, whole or the byte range asked for (206)."""
        timelapses = _timelapses(canvas)
        found = await timelapses.find(job)
        path = timelapses.blobs.find(job) if found is not None else None
        if found is None or found.canvas_id != canvas_id or path is None:
            raise ApiError("not_found", f"no finished timelapse {job}")
        size = path.stat().st_size
        asked = byte_range(request.headers.get("range"), size)
        start, end = asked if asked is not None else (0, size - 1)

        async def body() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as file:
                await file.seek(start)
                left = end - start + 1
                while left > 0:
                    data = await file.read(min(CHUNK, left))
                    if not data:
                        return
                    left -= len(data)
                    yield data

        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
                   "Cache-Control": "public, max-age=31536000, immutable"}
        if asked is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Stream(body(), status_code=206 if asked is not None else 200,
                      media_type=MEDIA_TYPES[found.format], headers=headers)
