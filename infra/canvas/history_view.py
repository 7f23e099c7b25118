"""The canvas history in PostgreSQL (asyncpg): durable keyframes, and any past board or moment
rebuilt from the nearest keyframe plus the events after it, read from the event store.

Tables: `canvas_history` (each canvas's size, creation time and the version the history has
reached) and `canvas_keyframes` (a blosc2 board every N versions, with the time of that
version's event, kept for the canvas's life).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg
import blosc2
import numpy as np

from infra.canvas.view import CODEC, compress_board, decompress_board
from infra.spine.eventstore import events_table
from infra.spine.readmodels import quote_ident
from infra.spine.store_reader import packed_columns, windows
from projections.canvas.history import (
    PAINTING,
    HistoryBatch,
    Maps,
    Tracked,
    event_time,
    paint_columns,
    tally_columns,
)
from projections.canvas.history import Keyframe as Keyframe_
from projections.recorded import Columns, Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.canvas_history (
    canvas_id uuid PRIMARY KEY,
    width int NOT NULL,
    height int NOT NULL,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.canvas_keyframes (
    canvas_id uuid NOT NULL,
    version bigint NOT NULL,
    at timestamptz NOT NULL,
    codec text NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (canvas_id, version)
);
CREATE INDEX IF NOT EXISTS canvas_keyframes_at ON {s}.canvas_keyframes (canvas_id, at);
-- the maps at the keyframe: paintings of each pixel, and the version that painted it last
ALTER TABLE {s}.canvas_keyframes ADD COLUMN IF NOT EXISTS heat bytea;
ALTER TABLE {s}.canvas_keyframes ADD COLUMN IF NOT EXISTS touched bytea;
"""

PAGE = 10_000
"""Events read from the store at a time while looking for a moment."""

_PAINTING_SQL = """
SELECT count(*), string_agg(int8send(notification_id) || int8send(originator_version)
                            || int2send((array_position($4::text[], topic) - 1)::int2)
                            || int4send(length(state)) || uuid_send(originator_id), ''),
       string_agg(state, '')
FROM (SELECT notification_id, originator_id, originator_version, topic, state FROM {events}
      WHERE originator_id = $3 AND originator_version > $1 AND originator_version <= $2
      AND topic = ANY($4::text[]) ORDER BY originator_version) AS page
"""
"""A canvas's events that paint, with versions in ($1, $2], packed as columns by PostgreSQL
(`StoreReader.read_columns`'s layout): a past board or a timelapse reads millions of them
without a Python object per event."""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class HistoryCanvas(NamedTuple):
    canvas_id: UUID
    width: int
    height: int
    created_at: datetime
    version: int
    """The last version the history projection has applied (the store may be further)."""


class Keyframe(NamedTuple):
    version: int
    at: datetime | None
    pixels: np.ndarray


class EncodedKeyframe(NamedTuple):
    canvas_id: UUID
    version: int
    at: datetime
    data: bytes
    heat: bytes | None
    touched: bytes | None


def compress_counts(values: np.ndarray) -> bytes:
    params = blosc2.CParams(codec=blosc2.Codec.ZSTD, clevel=1, typesize=4)
    return bytes(blosc2.compress2(values.astype("<u4"), cparams=params))


def decompress_counts(data: bytes) -> np.ndarray:
    return np.frombuffer(blosc2.decompress2(data), dtype="<u4").astype(np.uint32)


def _encode(keyframe: Keyframe_) -> tuple[bytes, bytes | None, bytes | None]:
    board, maps = compress_board(keyframe.pixels), keyframe.maps
    if maps is None:
        return board, None, None
    return board, compress_counts(maps.heat), compress_counts(maps.touched)


async def encode_keyframes(batch: HistoryBatch) -> list[EncodedKeyframe]:
    encoded = []
    for k in batch.keyframes:
        data, heat, touched = await asyncio.to_thread(_encode, k)
        encoded.append(EncodedKeyframe(k.canvas_id, k.version, k.at, data, heat, touched))
    return encoded


class HistoryView:
    def __init__(self, pool: asyncpg.Pool, schema: str, *, application: str = "canvases") -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._events = f"{quote_ident(schema)}.{quote_ident(events_table(application))}"

    # -- writes, inside the runner's transaction ------------------------------------------------

    async def write(
        self, conn: asyncpg.Connection, batch: HistoryBatch, keyframes: list[EncodedKeyframe]
    ) -> None:
        if batch.canvases:
            await conn.executemany(
                f"INSERT INTO {self._s}.canvas_history (canvas_id, width, height, created_at, "
                "version) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (canvas_id) DO UPDATE SET version = EXCLUDED.version",
                [(c.canvas_id, c.width, c.height, c.created_at, c.version) for c in batch.canvases],
            )
        if keyframes:
            await conn.executemany(
                f"INSERT INTO {self._s}.canvas_keyframes (canvas_id, version, at, codec, data, "
                "heat, touched) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                [(k.canvas_id, k.version, k.at, CODEC, k.data, k.heat, k.touched)
                 for k in keyframes],
            )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.canvas_history, {self._s}.canvas_keyframes")

    # -- reads --------------------------------------------------------------------------------

    async def list_canvases(self) -> list[HistoryCanvas]:
        rows = await self._pool.fetch(
            f"SELECT canvas_id, width, height, created_at, version FROM {self._s}.canvas_history"
        )
        return [HistoryCanvas(*row) for row in rows]

    async def find_canvas(self, canvas_id: UUID) -> HistoryCanvas | None:
        row = await self._pool.fetchrow(
            f"SELECT canvas_id, width, height, created_at, version FROM {self._s}.canvas_history "
            "WHERE canvas_id = $1",
            canvas_id,
        )
        return None if row is None else HistoryCanvas(*row)

    async def find_keyframe(
        self, canvas_id: UUID, width: int, height: int, version: int
    ) -> Keyframe:
        """The last keyframe at or before `version`, or the empty board before version 1."""
        row = await self._pool.fetchrow(
            f"SELECT version, at, data FROM {self._s}.canvas_keyframes "
            "WHERE canvas_id = $1 AND version <= $2 ORDER BY version DESC LIMIT 1",
            canvas_id,
            version,
        )
        if row is None:
            return Keyframe(0, None, np.zeros(width * height, dtype=np.uint8))
        pixels = await asyncio.to_thread(decompress_board, row["data"])
        return Keyframe(row["version"], row["at"], pixels)

    async def list_events(self, canvas_id: UUID, after: int, upto: int) -> list[Recorded]:
        """The canvas's events with versions in (after, upto], from the event store."""
        rows = await self._pool.fetch(
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self._events} WHERE originator_id = $1 AND originator_version > $2 "
            "AND originator_version <= $3 ORDER BY originator_version",
            canvas_id,
            after,
            upto,
        )
        return [Recorded(*row) for row in rows]

    async def list_painting(self, canvas_id: UUID, after: int, upto: int) -> Columns | None:
        """The canvas's events that paint, versions in (after, upto], as columns (None: none)."""
        row = await self._pool.fetchrow(_PAINTING_SQL.format(events=self._events), after, upto,
                                        canvas_id, list(PAINTING))
        return _painting(row)

    async def pages_painting(self, canvas_id: UUID, after: int, upto: int, page: int
                             ) -> AsyncGenerator[tuple[int, Columns | None], None]:
        """`list_painting` a window of `page` versions at a time up to `upto`: each window's
        upper bound and its events, the next window read while the caller works on this one."""
        async with self._pool.acquire() as conn:
            read = windows(conn, _PAINTING_SQL.format(events=self._events), after, upto, page,
                           (canvas_id, list(PAINTING)))
            async with contextlib.aclosing(read):
                async for high, rows in read:
                    yield high, _painting(rows[0])

    async def last_version(self, canvas_id: UUID) -> int:
        """The canvas's last version in the event store (0 when it has none)."""
        value = await self._pool.fetchval(
            f"SELECT max(originator_version) FROM {self._events} WHERE originator_id = $1",
            canvas_id,
        )
        return int(value or 0)

    async def board_at(self, canvas_id: UUID, width: int, height: int, version: int) -> np.ndarray:
        """The board right after `version`: the keyframe before it and the events after that."""
        keyframe = await self.find_keyframe(canvas_id, width, height, version)
        if keyframe.version == version:
            return keyframe.pixels
        page = await self.list_painting(canvas_id, keyframe.version, version)
        pixels = keyframe.pixels
        if page is not None:
            await asyncio.to_thread(paint_columns, pixels, width, page)
        return pixels

    async def version_at(self, canvas_id: UUID, moment: datetime) -> int:
        """The version current at `moment`: the last whose event happened at or before it
        (0: the canvas did not exist yet). Events are read from the last keyframe at or before
        the moment on, a page at a time, until one happened after it."""
        row = await self._pool.fetchrow(
            f"SELECT version FROM {self._s}.canvas_keyframes WHERE canvas_id = $1 AND at <= $2 "
            "ORDER BY at DESC, version DESC LIMIT 1",
            canvas_id,
            moment,
        )
        found = 0 if row is None else int(row["version"])
        async for events in self._pages(canvas_id, found):
            for event in events:
                if event_time(event.state) > moment:
                    return found
                found = event.originator_version
        return found

    async def _pages(self, canvas_id: UUID, after: int) -> AsyncIterator[list[Recorded]]:
        while True:
            events = await self.list_events(canvas_id, after, after + PAGE)
            if not events:
                return
            yield events
            after = events[-1].originator_version

    async def maps_at(self, canvas_id: UUID, width: int, height: int, version: int) -> Maps:
        """Each pixel's paintings since creation and the version that painted it last, right
        after `version`: the maps of the keyframe before it and the events after that."""
        row = await self._pool.fetchrow(
            f"SELECT version, heat, touched FROM {self._s}.canvas_keyframes "
            "WHERE canvas_id = $1 AND version <= $2 AND heat IS NOT NULL "
            "ORDER BY version DESC LIMIT 1",
            canvas_id,
            version,
        )
        if row is None:
            after = 0
            maps = Maps(np.zeros(width * height, dtype=np.uint32),
                        np.zeros(width * height, dtype=np.uint32))
        else:
            after = row["version"]
            maps = Maps(*await asyncio.gather(asyncio.to_thread(decompress_counts, row["heat"]),
                                              asyncio.to_thread(decompress_counts,
                                                                row["touched"])))
        if after < version:
            page = await self.list_painting(canvas_id, after, version)
            if page is not None:
                await asyncio.to_thread(tally_columns, maps.heat, maps.touched, width, page)
        return maps

    async def load(self, canvas: HistoryCanvas) -> Tracked:
        """A canvas as the projection last left it, its board and maps rebuilt."""
        args = (canvas.canvas_id, canvas.width, canvas.height, canvas.version)
        pixels = await self.board_at(*args)
        return Tracked(canvas.canvas_id, canvas.width, canvas.height, canvas.created_at,
                       canvas.version, pixels, await self.maps_at(*args))


def _painting(row: asyncpg.Record | None) -> Columns | None:
    if row is None or not row[0]:
        return None
    return packed_columns(PAINTING, row[1], row[2], by="version")
