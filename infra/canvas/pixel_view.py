"""The pixel inspector's read model in PostgreSQL: the last placement of every pixel, the
admin fills, and who painted a given pixel last."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.canvas.pixel_owners import PixelOwnersProjection
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.canvas_pixels (
    canvas_id uuid NOT NULL,
    x int NOT NULL,
    y int NOT NULL,
    colour smallint NOT NULL,
    user_id text NOT NULL,
    version bigint NOT NULL,
    placed_at timestamptz NOT NULL,
    PRIMARY KEY (canvas_id, x, y)
);
CREATE TABLE IF NOT EXISTS {s}.canvas_fills (
    canvas_id uuid NOT NULL,
    version bigint NOT NULL,
    x int NOT NULL,
    y int NOT NULL,
    width int NOT NULL,
    height int NOT NULL,
    colour smallint NOT NULL,
    user_id text NOT NULL,
    placed_at timestamptz NOT NULL,
    PRIMARY KEY (canvas_id, version)
);
"""


class PixelOwner(msgspec.Struct):
    user: str
    colour: int
    version: int
    placed_at: datetime
    name: str | None = None


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class PixelView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def write(self, conn: asyncpg.Connection, projection: PixelOwnersProjection) -> None:
        cleared, painted, filled = projection.collect()
        for canvas_id, version in cleared.items():
            for table in ("canvas_pixels", "canvas_fills"):
                await conn.execute(
                    f"DELETE FROM {self._s}.{table} WHERE canvas_id = $1 AND version < $2",
                    canvas_id, version,
                )
        if painted:
            await conn.execute(
                f"INSERT INTO {self._s}.canvas_pixels AS p "
                "(canvas_id, x, y, colour, user_id, version, placed_at) "
                "SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::smallint[], "
                "$5::text[], $6::bigint[], $7::timestamptz[]) "
                "ON CONFLICT (canvas_id, x, y) DO UPDATE SET colour = EXCLUDED.colour, "
                "user_id = EXCLUDED.user_id, version = EXCLUDED.version, "
                "placed_at = EXCLUDED.placed_at WHERE p.version < EXCLUDED.version",
                *zip(*((p.canvas_id, p.x, p.y, p.colour, p.user, p.version, p.at)
                       for p in painted), strict=True),
            )
        if filled:
            await conn.executemany(
                f"INSERT INTO {self._s}.canvas_fills "
                "(canvas_id, version, x, y, width, height, colour, user_id, placed_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                [(f.canvas_id, f.version, f.x, f.y, f.width, f.height, f.colour, f.user, f.at)
                 for f in filled],
            )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.canvas_pixels, {self._s}.canvas_fills")

    async def find_owner(self, canvas_id: UUID, x: int, y: int) -> PixelOwner | None:
        """Who painted (x, y) last, by hand or by a fill; None when nobody has this season."""
        row = await self._pool.fetchrow(
            f"""
            SELECT o.*, a.display_name AS name FROM (
                SELECT user_id, colour, version, placed_at FROM {self._s}.canvas_pixels
                WHERE canvas_id = $1 AND x = $2 AND y = $3
                UNION ALL
                SELECT user_id, colour, version, placed_at FROM {self._s}.canvas_fills
                WHERE canvas_id = $1 AND $2 >= x AND $2 < x + width AND $3 >= y AND $3 < y + height
                ORDER BY version DESC LIMIT 1
            ) o
            LEFT JOIN {self._s}.account_views a ON a.account_id::text = o.user_id
            """,
            canvas_id, x, y,
        )
        if row is None:
            return None
        return PixelOwner(row["user_id"], row["colour"], row["version"], row["placed_at"],
                          row["name"])


class PixelOwnersReadModel:
    name = "pixel_owners"
    topics = PixelOwnersProjection.topics

    def __init__(self, view: PixelView) -> None:
        self.view = view
        self.projection = PixelOwnersProjection()

    async def load(self) -> None:
        self.projection = PixelOwnersProjection()  # everything lives in the view

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = PixelOwnersProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        await self.view.write(conn, self.projection)
        return None
