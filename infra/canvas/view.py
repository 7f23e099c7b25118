"""The bitmap read model in PostgreSQL (asyncpg): canvas rows, the delta ring, snapshots."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import asyncpg
import blosc2
import numpy as np

from infra.spine.readmodels import quote_ident
from projections.canvas.bitmap import Batch, Board, CanvasMeta, Chunk, ChunkKind, board_at

CODEC = "blosc2-zstd-1"


_DDL = """
CREATE TABLE IF NOT EXISTS {s}.canvas_views (
    canvas_id uuid PRIMARY KEY,
    title text NOT NULL,
    width int NOT NULL,
    height int NOT NULL,
    palette text[] NOT NULL,
    cooldown_ms int NOT NULL,
    is_open boolean NOT NULL,
    season int NOT NULL,
    version bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- clock_timestamp(), not now(): canvases created in one batch still get distinct times, in order.
ALTER TABLE {s}.canvas_views
    ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE TABLE IF NOT EXISTS {s}.canvas_snapshots (
    canvas_id uuid NOT NULL,
    version bigint NOT NULL,
    width int NOT NULL,
    height int NOT NULL,
    codec text NOT NULL,
    data bytea NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (canvas_id, version)
);
CREATE TABLE IF NOT EXISTS {s}.canvas_deltas (
    canvas_id uuid NOT NULL,
    from_version bigint NOT NULL,
    to_version bigint NOT NULL,
    kind smallint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (canvas_id, to_version)
);
"""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


def compress_board(pixels: np.ndarray) -> bytes:
    params = blosc2.CParams(codec=blosc2.Codec.ZSTD, clevel=1, typesize=1)
    return bytes(blosc2.compress2(pixels, cparams=params))


def decompress_board(data: bytes) -> np.ndarray:
    return np.frombuffer(blosc2.decompress2(data), dtype=np.uint8).copy()


class EncodedSnapshot(NamedTuple):
    canvas_id: UUID
    version: int
    width: int
    height: int
    data: bytes


class StoredSnapshot(NamedTuple):
    version: int
    width: int
    height: int
    pixels: np.ndarray


class CanvasView:
    def __init__(self, pool: asyncpg.Pool, schema: str, *, ring: int) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._schema = schema
        self._ring = ring

    # -- writes, inside the runner's transaction ------------------------------------------------

    async def write(
        self, conn: asyncpg.Connection, batch: Batch, snapshots: list[EncodedSnapshot]
    ) -> None:
        if batch.chunks:
            await conn.copy_records_to_table(
                "canvas_deltas",
                schema_name=self._schema,
                columns=("canvas_id", "from_version", "to_version", "kind", "data"),
                records=[
                    (c.canvas_id, c.from_version, c.to_version, int(c.kind), c.data)
                    for c in batch.chunks
                ],
            )
        if batch.metas:
            await conn.executemany(
                f"INSERT INTO {self._s}.canvas_views (canvas_id, title, width, height, palette, "
                "cooldown_ms, is_open, season, version, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) "
                "ON CONFLICT (canvas_id) DO UPDATE SET is_open = EXCLUDED.is_open, "
                "season = EXCLUDED.season, version = EXCLUDED.version, updated_at = now()",
                [
                    (m.canvas_id, m.title, m.width, m.height, m.palette, m.cooldown_ms,
                     m.is_open, m.season, m.version)
                    for m in batch.metas
                ],
            )
        for snap in snapshots:
            await conn.execute(
                f"INSERT INTO {self._s}.canvas_snapshots "
                "(canvas_id, version, width, height, codec, data) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT DO NOTHING",
                snap.canvas_id, snap.version, snap.width, snap.height, CODEC, snap.data,
            )
            # The ring keeps `ring` versions, and always what the latest snapshot needs.
            await conn.execute(
                f"DELETE FROM {self._s}.canvas_deltas WHERE canvas_id = $1 AND to_version <= $2",
                snap.canvas_id,
                snap.version - self._ring,
            )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"TRUNCATE {self._s}.canvas_views, {self._s}.canvas_deltas, {self._s}.canvas_snapshots"
        )

    # -- reads --------------------------------------------------------------------------------

    async def list_canvases(self) -> list[CanvasMeta]:
        rows = await self._pool.fetch(f"SELECT * FROM {self._s}.canvas_views ORDER BY created_at, canvas_id")
        return [_meta(row) for row in rows]

    async def find_canvas(self, canvas_id: UUID) -> CanvasMeta | None:
        row = await self._pool.fetchrow(
            f"SELECT * FROM {self._s}.canvas_views WHERE canvas_id = $1", canvas_id
        )
        return None if row is None else _meta(row)

    async def find_current(self) -> CanvasMeta | None:
        """The game being played: the newest canvas still open."""
        row = await self._pool.fetchrow(
            f"SELECT * FROM {self._s}.canvas_views WHERE is_open "
            "ORDER BY created_at DESC, canvas_id DESC LIMIT 1"
        )
        return None if row is None else _meta(row)

    async def find_snapshot_before(self, canvas_id: UUID, version: int) -> StoredSnapshot | None:
        row = await self._pool.fetchrow(
            f"SELECT version, width, height, data FROM {self._s}.canvas_snapshots "
            "WHERE canvas_id = $1 AND version <= $2 ORDER BY version DESC LIMIT 1",
            canvas_id,
            version,
        )
        if row is None:
            return None
        return StoredSnapshot(
            row["version"], row["width"], row["height"], decompress_board(row["data"])
        )

    async def list_chunks(self, canvas_id: UUID, after: int, upto: int) -> list[Chunk]:
        rows = await self._pool.fetch(
            f"SELECT from_version, to_version, kind, data FROM {self._s}.canvas_deltas "
            "WHERE canvas_id = $1 AND to_version > $2 AND from_version < $3 ORDER BY to_version",
            canvas_id,
            after,
            upto,
        )
        return [
            Chunk(canvas_id, r["from_version"], r["to_version"], ChunkKind(r["kind"]), r["data"])
            for r in rows
        ]

    async def oldest_version(self, canvas_id: UUID) -> int | None:
        """The oldest version deltas can be asked from, or None when the ring is empty."""
        value = await self._pool.fetchval(
            f"SELECT min(from_version) FROM {self._s}.canvas_deltas WHERE canvas_id = $1",
            canvas_id,
        )
        return None if value is None else int(value)

    async def find_board(self, meta: CanvasMeta, version: int) -> np.ndarray | None:
        """The board at `version`: the nearest snapshot before it plus the ring's chunks, or None
        when the chunks it needs have left the ring."""
        snapshot = await self.find_snapshot_before(meta.canvas_id, version)
        if snapshot is None:
            base_version, base = 0, np.zeros(meta.width * meta.height, dtype=np.uint8)
        else:
            base_version, base = snapshot.version, snapshot.pixels
        if base_version == version:
            return base
        chunks = await self.list_chunks(meta.canvas_id, base_version, version)
        if not chunks or chunks[0].from_version > base_version or chunks[-1].to_version < version:
            return None
        return board_at(base, base_version, chunks, version)

    async def load_board(self, meta: CanvasMeta) -> Board:
        """The projection's board of a canvas as of its last commit."""
        pixels = await self.find_board(meta, meta.version)
        if pixels is None:
            raise RuntimeError(f"canvas {meta.canvas_id}: snapshot and ring do not meet; rebuild")
        board = Board(meta, pixels)
        snapshot = await self._pool.fetchval(
            f"SELECT max(version) FROM {self._s}.canvas_snapshots WHERE canvas_id = $1",
            meta.canvas_id,
        )
        board.snapshot_version = int(snapshot or 0)
        return board


def _meta(row: asyncpg.Record) -> CanvasMeta:
    return CanvasMeta(
        canvas_id=row["canvas_id"],
        title=row["title"],
        width=row["width"],
        height=row["height"],
        palette=list(row["palette"]),
        cooldown_ms=row["cooldown_ms"],
        is_open=row["is_open"],
        season=row["season"],
        version=row["version"],
    )
