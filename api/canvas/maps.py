"""Maps of a canvas's history for analysts, as PNG or raw arrays: the heatmap (paintings of
each pixel in a version range), the virgin map (pixels never painted), the last-touch age map.
From the history's keyframe maps plus the events after them: any range costs two keyframes
and at most 2 × (N - 1) events."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Annotated, Any
from uuid import UUID

import numpy as np
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.canvas.parts import CanvasParts
from api.errors import ApiError
from infra.canvas.history_view import HistoryView

KINDS = ("heat", "virgin", "age")
NEVER = 0xFFFFFFFF


def gray_png(values: np.ndarray, width: int, height: int) -> bytes:
    """An 8-bit greyscale PNG."""
    rows = np.zeros((height, width + 1), dtype=np.uint8)
    rows[:, 1:] = values.reshape(height, width)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def shade(values: np.ndarray, *, log: bool = False) -> np.ndarray:
    """0–255 by share of the largest value (logarithmic for counts)."""
    scaled = np.log1p(values.astype(np.float64)) if log else values.astype(np.float64)
    top = float(scaled.max()) if scaled.size else 0.0
    if top <= 0:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.round(scaled * (255 / top)).astype(np.uint8)


async def compute(history: HistoryView, canvas_id: UUID, width: int, height: int, kind: str,
                  start: int, end: int) -> np.ndarray:
    """The map as raw values: heat u32 (paintings in (start, end]), virgin u8 (1: never painted
    up to `end`), age u32 (versions since the last painting, NEVER for none)."""
    last = await history.maps_at(canvas_id, width, height, end)
    match kind:
        case "heat":
            if start == 0:
                return last.heat
            first = await history.maps_at(canvas_id, width, height, start)
            return last.heat - first.heat
        case "virgin":
            return (last.heat == 0).astype(np.uint8)
        case _:
            return np.where(last.touched > 0, np.uint32(end) - last.touched,
                            np.uint32(NEVER)).astype(np.uint32)


class MapsController(Controller):
    path = "/api/canvas"
    tags = ("canvas history",)

    @get(
        "/{canvas_id:uuid}/maps/{kind:str}",
        media_type="application/octet-stream",
        refuses=("invalid_map", "not_found"),
    )
    async def get_map(
        self,
        canvas_id: FromPath[UUID],
        kind: FromPath[str],
        canvas: NamedDependency[CanvasParts],
        start: Annotated[int, Parameter(query="from", ge=0)] = 0,
        end: Annotated[int | None, Parameter(query="to", ge=1)] = None,
        form: Annotated[str, Parameter(query="format")] = "png",
    ) -> Response[bytes]:
        """`heat`, `virgin` or `age` over the versions (from, to] (to: default the current
        one), as a greyscale PNG (`format=png`) or raw little-endian values (`format=raw`:
        heat and age u32, virgin u8), row by row."""
        if kind not in KINDS:
            raise ApiError("invalid_map", f"{kind!r} is not one of {', '.join(KINDS)}")
        if form not in ("png", "raw"):
            raise ApiError("invalid_map", f"format {form!r} is not png or raw")
        meta = await canvas.reads.get_canvas(canvas_id, fresh=True)
        end = meta.version if end is None else end
        if end > meta.version or start > end:
            raise ApiError("invalid_map", f"versions ({start}, {end}] are not within the "
                           f"canvas's 1 to {meta.version}")
        if canvas.timelapses is None:
            raise ApiError("not_found", "this node keeps no history")
        values = await compute(canvas.timelapses.history, canvas_id, meta.width, meta.height,
                               kind, start, end)
        headers = {"X-Canvas-Width": str(meta.width), "X-Canvas-Height": str(meta.height),
                   "X-Map-From": str(start), "X-Map-To": str(end),
                   "Cache-Control": "public, max-age=31536000, immutable"}
        if form == "raw":
            return Response(values.astype(values.dtype.newbyteorder("<")).tobytes(),
                            media_type="application/octet-stream", headers=headers)
        match kind:
            case "heat":
                gray = shade(values, log=True)
            case "virgin":
                gray = values * np.uint8(255)
            case _:
                painted = values != NEVER
                gray = np.zeros(values.shape, dtype=np.uint8)
                if painted.any():  # recent is bright, never painted black
                    gray[painted] = 255 - shade(values[painted])[:]
                    gray[painted] = np.maximum(gray[painted], 1)
        body: Any = await asyncio.to_thread(gray_png, gray, meta.width, meta.height)
        return Response(body, media_type="image/png", headers=headers)
