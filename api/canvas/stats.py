"""Placement statistics for analysts: per colour, per hour, top placers, one user's hours."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.canvas.parts import CanvasParts
from api.errors import ApiError
from api.versions import parse_moment
from infra.canvas.stats_view import StatsView


def _stats(canvas: CanvasParts) -> StatsView:
    if canvas.stats is None:
        raise ApiError("not_found", "this node keeps no statistics")
    return canvas.stats


class StatsController(Controller):
    path = "/api/canvas"
    tags = ("canvas history",)

    @get("/{canvas_id:uuid}/stats", refuses=("invalid_time",))
    async def get_stats(
        self,
        canvas_id: FromPath[UUID],
        canvas: NamedDependency[CanvasParts],
        start: Annotated[str | None, Parameter(query="from")] = None,
        end: Annotated[str | None, Parameter(query="to")] = None,
        top: Annotated[int, Parameter(ge=1, le=1000)] = 10,
    ) -> dict[str, Any]:
        """Placements between two ISO times (by the hour; default all): the total, per colour,
        per hour, and the `top` placers."""
        await canvas.reads.get_canvas(canvas_id)
        since = parse_moment(start) if start else None
        until = parse_moment(end) if end else None
        if since is not None and until is not None and since > until:
            raise ApiError("invalid_time", f"from ({start}) is after to ({end})")
        return await _stats(canvas).list_counts(canvas_id, since, until, top)

    @get("/{canvas_id:uuid}/stats/users/{user:str}")
    async def get_user_stats(
        self, canvas_id: FromPath[UUID], user: FromPath[str], canvas: NamedDependency[CanvasParts]
    ) -> dict[str, Any]:
        """One player's placements, hour by hour."""
        await canvas.reads.get_canvas(canvas_id)
        hours = await _stats(canvas).list_user_hours(canvas_id, user)
        return {"user": user, "placements": sum(h["placements"] for h in hours), "hours": hours}
