"""Placement counts per user and per colour by the hour (asyncpg): the read model, its
queries for analysts (counts over a time range, top placers), rebuildable from the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.canvas.placement_stats import PlacementStatsProjection
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.canvas_user_hours (
    canvas_id uuid NOT NULL,
    hour timestamptz NOT NULL,
    user_id text NOT NULL,
    placements bigint NOT NULL,
    PRIMARY KEY (canvas_id, hour, user_id)
);
CREATE TABLE IF NOT EXISTS {s}.canvas_colour_hours (
    canvas_id uuid NOT NULL,
    hour timestamptz NOT NULL,
    colour smallint NOT NULL,
    placements bigint NOT NULL,
    PRIMARY KEY (canvas_id, hour, colour)
);
"""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class StatsView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def list_counts(self, canvas_id: UUID, since: datetime | None,
                          until: datetime | None, top: int) -> dict[str, Any]:
        """Placements in the hours from `since` to `until` (both rounded down to the hour):
        by colour, by hour, and the `top` placers."""
        where = "canvas_id = $1 AND ($2::timestamptz IS NULL OR hour >= date_trunc('hour', $2)) " \
                "AND ($3::timestamptz IS NULL OR hour <= $3)"
        args = (canvas_id, since, until)
        colours = await self._pool.fetch(
            f"SELECT colour, sum(placements)::bigint AS n FROM {self._s}.canvas_colour_hours "
            f"WHERE {where} GROUP BY colour ORDER BY colour", *args)
        hours = await self._pool.fetch(
            f"SELECT hour, sum(placements)::bigint AS n FROM {self._s}.canvas_colour_hours "
            f"WHERE {where} GROUP BY hour ORDER BY hour", *args)
        placers = await self._pool.fetch(
            f"SELECT user_id, sum(placements)::bigint AS n FROM {self._s}.canvas_user_hours "
            f"WHERE {where} GROUP BY user_id ORDER BY n DESC, user_id LIMIT $4", *args, top)
        return {
            "placements": sum(r["n"] for r in colours),
            "colours": [{"colour": r["colour"], "placements": r["n"]} for r in colours],
            "hours": [{"hour": r["hour"].isoformat(), "placements": r["n"]} for r in hours],
            "top_placers": [{"user": r["user_id"], "placements": r["n"]} for r in placers],
        }

    async def list_user_hours(self, canvas_id: UUID, user: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT hour, placements FROM {self._s}.canvas_user_hours "
            "WHERE canvas_id = $1 AND user_id = $2 ORDER BY hour", canvas_id, user)
        return [{"hour": r["hour"].isoformat(), "placements": r["placements"]} for r in rows]


class PlacementStatsReadModel:
    name = "placement_stats"

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._s = quote_ident(schema)
        self.projection = PlacementStatsProjection()
        self.topics = self.projection.topics
        self.view = StatsView(pool, schema)

    async def load(self) -> None:
        self.projection = PlacementStatsProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.canvas_user_hours, {self._s}.canvas_colour_hours")
        self.projection = PlacementStatsProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    def apply_page(self, events: Sequence[Recorded]) -> None:
        self.projection.apply_page(events)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        users, colours = self.projection.collect()
        if users:
            await conn.executemany(
                f"INSERT INTO {self._s}.canvas_user_hours AS t VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (canvas_id, hour, user_id) "
                "DO UPDATE SET placements = t.placements + EXCLUDED.placements",
                [(*key, n) for key, n in users.items()])
        if colours:
            await conn.executemany(
                f"INSERT INTO {self._s}.canvas_colour_hours AS t VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (canvas_id, hour, colour) "
                "DO UPDATE SET placements = t.placements + EXCLUDED.placements",
                [(*key, n) for key, n in colours.items()])
        return None
