"""The canvas over HTTP: commands go to the canvas writer, reads come from the bitmap read model."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_ADMIN, AS_PLAYER
from api.canvas.encoding import choose_encoding
from api.canvas.parts import CanvasParts, provide_canvas
from api.canvas.placing import PlacementOut, fast_placement, place
from api.canvas.reads import CanvasReads
from api.conditional import unchanged
from api.errors import ApiError
from api.openapi import NOT_MODIFIED, REDIRECT
from commands.actor import Actor
from commands.canvas.canvases import Canvases
from commands.canvas.wire import (
    CanvasCommand,
    ClearCanvas,
    CloseCanvas,
    CreateCanvas,
    FillRectangle,
    PlacePixel,
    ReopenCanvas,
)
from domain.canvas import CanvasClosed, OpReused
from projections.canvas.bitmap import CanvasMeta

IMMUTABLE = "public, max-age=31536000, immutable"
BYTES = "application/octet-stream"
_LATEST = {307: REDIRECT, 304: NOT_MODIFIED}


class PixelOut(msgspec.Struct):
    """One pixel as the inspector shows it; `user` is None where nobody painted this season."""

    x: int
    y: int
    colour: int
    user: str | None = None
    name: str | None = None
    placed_at: datetime | None = None
    version: int | None = None


class CanvasOut(msgspec.Struct):
    id: UUID
    title: str
    width: int
    height: int
    palette: list[str]
    cooldown_ms: int
    is_open: bool
    season: int
    version: int

    @classmethod
    def of(cls, meta: CanvasMeta) -> CanvasOut:
        return cls(
            meta.canvas_id,
            meta.title,
            meta.width,
            meta.height,
            meta.palette,
            meta.cooldown_ms,
            meta.is_open,
            meta.season,
            meta.version,
        )


def _board_headers(meta: CanvasMeta, version: int) -> dict[str, str]:
    return {
        "X-Canvas-Version": str(version),
        "X-Canvas-Width": str(meta.width),
        "X-Canvas-Height": str(meta.height),
        "Cache-Control": IMMUTABLE,
        "ETag": f'"{version}"',
        "Access-Control-Expose-Headers": "X-Canvas-Version, X-Canvas-Width, X-Canvas-Height",
    }


class CanvasController(Controller):
    path = "/api/canvas"
    tags = ("canvas",)

    # -- commands ---------------------------------------------------------------------------

    @post("/", status_code=201, dependencies=AS_ADMIN)
    async def create_canvas(
        self,
        data: JSONBody[CreateCanvas],
        admin: NamedDependency[Actor],
        canvas: NamedDependency[CanvasParts],
    ) -> CanvasOut:
        """Create a canvas (admin)."""
        created = await asyncio.to_thread(canvas.canvases.create_canvas, data)
        return CanvasOut(
            created.id,
            created.title,
            created.width,
            created.height,
            created.palette,
            created.cooldown_ms,
            created.is_open,
            created.season,
            created.version,
        )

    @post(
        "/{canvas_id:uuid}/pixels",
        status_code=200,
        dependencies=AS_PLAYER,
        middleware=[fast_placement],
        refuses=("not_playing", CanvasClosed, OpReused),
    )
    async def place_pixel(
        self,
        canvas_id: FromPath[UUID],
        data: JSONBody[PlacePixel],
        player: NamedDependency[Actor],
        state: State,
    ) -> PlacementOut:
        """Place one pixel; answered after commit with the canvas version it produced.
        A retry with the same `op` gets the same answer and places nothing. A player who is
        not playing is let in when there is room, else refused (409) with their queue place."""
        # The common request is served by the route's middleware (`api/canvas/placing.py`);
        # this handler answers the others, malformed ones included, as every route does.
        return await place(provide_canvas(state), canvas_id, player, data)

    @post("/{canvas_id:uuid}/fill", status_code=200, dependencies=AS_ADMIN, refuses=(CanvasClosed,))
    async def fill_rectangle(
        self,
        canvas_id: FromPath[UUID],
        data: JSONBody[FillRectangle],
        admin: NamedDependency[Actor],
        canvas: NamedDependency[CanvasParts],
    ) -> PlacementOut:
        """Fill a rectangle with one colour as one versioned operation (admin)."""
        return await _run(canvas.canvases, canvas_id, admin, data)

    @post("/{canvas_id:uuid}/clear", status_code=200, dependencies=AS_ADMIN)
    async def clear_canvas(
        self,
        canvas_id: FromPath[UUID],
        admin: NamedDependency[Actor],
        canvas: NamedDependency[CanvasParts],
    ) -> PlacementOut:
        """Start a new season: the board goes blank, the version keeps growing (admin)."""
        return await _run(canvas.canvases, canvas_id, admin, ClearCanvas())

    @post("/{canvas_id:uuid}/close", status_code=200, dependencies=AS_ADMIN)
    async def close_canvas(
        self,
        canvas_id: FromPath[UUID],
        admin: NamedDependency[Actor],
        canvas: NamedDependency[CanvasParts],
    ) -> PlacementOut:
        return await _run(canvas.canvases, canvas_id, admin, CloseCanvas())

    @post("/{canvas_id:uuid}/reopen", status_code=200, dependencies=AS_ADMIN)
    async def reopen_canvas(
        self,
        canvas_id: FromPath[UUID],
        admin: NamedDependency[Actor],
        canvas: NamedDependency[CanvasParts],
    ) -> PlacementOut:
        return await _run(canvas.canvases, canvas_id, admin, ReopenCanvas())

    # -- reads ------------------------------------------------------------------------------

    @get("/")
    async def list_canvases(self, reads: NamedDependency[CanvasReads]) -> list[CanvasOut]:
        return [CanvasOut.of(meta) for meta in await reads.view.list_canvases()]

    @get("/current", refuses=("no_current_canvas",), responses={304: NOT_MODIFIED})
    async def get_current(
        self, request: Request[Any, Any, Any], reads: NamedDependency[CanvasReads]
    ) -> Response[Any]:
        """The game being played: the newest open canvas, cached a second. Open pages ask every
        poll interval to follow a new game; the weak ETag names the game (not its version), so
        while it stays the same they get a 304."""
        meta = await reads.find_current()
        if meta is None:
            raise ApiError("no_current_canvas", "no canvas is open")
        etag = f'W/"{meta.canvas_id}"'
        headers = {"Cache-Control": "public, max-age=1", "ETag": etag}
        if unchanged(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(CanvasOut.of(meta), headers=headers)

    @get("/{canvas_id:uuid}")
    async def get_canvas(
        self, canvas_id: FromPath[UUID], reads: NamedDependency[CanvasReads]
    ) -> CanvasOut:
        """Size, palette, cooldown and the current version."""
        return CanvasOut.of(await reads.get_canvas(canvas_id, fresh=True))

    @get("/{canvas_id:uuid}/snapshot/latest", status_code=307, responses=_LATEST)
    async def latest_snapshot(
        self,
        canvas_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        reads: NamedDependency[CanvasReads],
    ) -> Response[Any]:
        """Points (307) at the immutable URL of the latest version; cached one second."""
        return await _latest(canvas_id, request, reads, suffix="")

    @get("/{canvas_id:uuid}/snapshot/latest/png", status_code=307, responses=_LATEST)
    async def latest_png(
        self,
        canvas_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        reads: NamedDependency[CanvasReads],
    ) -> Response[Any]:
        return await _latest(canvas_id, request, reads, suffix="/png")

    @get(
        "/{canvas_id:uuid}/snapshot/{version:int}",
        media_type=BYTES,
        refuses=("gone",),
        responses={304: NOT_MODIFIED},
    )
    async def get_snapshot(
        self,
        canvas_id: FromPath[UUID],
        version: FromPath[int],
        request: Request[Any, Any, Any],
        reads: NamedDependency[CanvasReads],
    ) -> Response[bytes]:
        """The board at a version: one byte (palette index) per pixel, row by row, compressed
        with zstd, br or gzip as `Accept-Encoding` allows."""
        meta = await _known_version(reads, canvas_id, version)
        if unchanged(request.headers.get("if-none-match"), f'"{version}"'):
            return Response(b"", status_code=304, headers=_board_headers(meta, version))
        encoding = choose_encoding(request.headers.get("accept-encoding"))
        body = await reads.get_body(meta, version, encoding)
        headers = _board_headers(meta, version) | {"Vary": "Accept-Encoding"}
        if encoding != "identity":
            headers["Content-Encoding"] = encoding
        return Response(body, media_type="application/octet-stream", headers=headers)

    @get("/{canvas_id:uuid}/snapshot/{version:int}/png", media_type="image/png", refuses=("gone",))
    async def get_png(
        self, canvas_id: FromPath[UUID], version: FromPath[int], reads: NamedDependency[CanvasReads]
    ) -> Response[bytes]:
        """The board at a version as an indexed PNG."""
        meta = await _known_version(reads, canvas_id, version)
        body = await reads.get_body(meta, version, "png")
        return Response(body, media_type="image/png", headers=_board_headers(meta, version))

    @get("/{canvas_id:uuid}/pixels/{x:int}/{y:int}", refuses=("pixel_out_of_bounds",))
    async def get_pixel(
        self,
        canvas_id: FromPath[UUID],
        x: FromPath[int],
        y: FromPath[int],
        reads: NamedDependency[CanvasReads],
    ) -> PixelOut:
        """The pixel inspector: who painted (x, y) last, when, and with which colour. It follows
        the board within a moment (its own projection)."""
        meta = await reads.get_canvas(canvas_id)
        if not (0 <= x < meta.width and 0 <= y < meta.height):
            raise ApiError(
                "pixel_out_of_bounds", f"({x}, {y}) is outside {meta.width}×{meta.height}"
            )
        owner = await reads.pixels.find_owner(canvas_id, x, y)
        if owner is None:  # never painted this season: still the background
            return PixelOut(x, y, 0)
        return PixelOut(x, y, owner.colour, owner.user, owner.name, owner.placed_at, owner.version)

    @get(
        "/{canvas_id:uuid}/deltas", media_type=BYTES, refuses=("version_in_future", "gone")
    )
    async def get_deltas(
        self,
        canvas_id: FromPath[UUID],
        reads: NamedDependency[CanvasReads],
        since: Annotated[int, Parameter(ge=0, description="the version the client holds")],
    ) -> Response[bytes]:
        """Everything after `since`: a 16-byte header (from, to as little-endian u64) and one
        little-endian u32 per repainted pixel, `(y*width + x) << 5 | colour`; 0xFFFFFFFF means
        the board was cleared. 410 with `oldest_version` when `since` has left the ring."""
        body = await reads.deltas_since(canvas_id, since)
        return Response(
            body, media_type="application/octet-stream", headers={"Cache-Control": "no-store"}
        )


async def _run(canvases: Canvases, canvas_id: UUID, actor: Actor, command: CanvasCommand) -> Any:
    placement = await canvases.execute(canvas_id, actor, command)
    return PlacementOut(placement.version, placement.replayed)


async def _known_version(
    reads: NamedDependency[CanvasReads], canvas_id: FromPath[UUID], version: int
) -> CanvasMeta:
    meta = await reads.get_canvas(canvas_id)
    if version > meta.version:
        meta = await reads.get_canvas(canvas_id, fresh=True)
    if not 1 <= version <= meta.version:
        raise ApiError("version_not_found", f"canvas {canvas_id} has versions 1 to {meta.version}"
        )
    return meta


async def _latest(
    canvas_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    reads: NamedDependency[CanvasReads],
    *,
    suffix: str,
) -> Response[Any]:
    meta = await reads.get_canvas(canvas_id)
    etag = f'"{meta.version}"'
    headers = {
        "Cache-Control": "public, max-age=1",
        "ETag": etag,
        "X-Canvas-Version": str(meta.version),
        "Access-Control-Expose-Headers": "X-Canvas-Version",
    }
    if unchanged(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers)
    location = f"/api/canvas/{canvas_id}/snapshot/{meta.version}{suffix}"
    return Response(b"", status_code=307, headers=headers | {"Location": location})
