"""The desk read model in PostgreSQL: a row per live desk and one per sticker (its registers)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from domain import lww
from domain.desk import epoch_ms
from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.desk.desks import DeskRow, DesksProjection, fold
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.desk_views (
    desk_id uuid PRIMARY KEY,
    name text NOT NULL,
    desk_seq bigint NOT NULL,
    last_edit_at timestamptz NOT NULL
);
ALTER TABLE {s}.desk_views ADD COLUMN IF NOT EXISTS epoch integer NOT NULL DEFAULT 1;
CREATE INDEX IF NOT EXISTS desk_views_last_edit_at ON {s}.desk_views (last_edit_at);
CREATE TABLE IF NOT EXISTS {s}.desk_stickers (
    desk_id uuid NOT NULL,
    sticker_id text NOT NULL,
    registers jsonb NOT NULL,
    PRIMARY KEY (desk_id, sticker_id)
);
"""

_json = msgspec.json.Encoder()


class StickerOut(msgspec.Struct):
    id: str
    x: float
    y: float
    w: float
    h: float
    z: str
    colour: str
    text: str
    deleted: bool
    stamps: dict[str, tuple[int, int, str]]


class DeskViewOut(msgspec.Struct):
    desk_id: UUID
    name: str
    desk_seq: int
    stickers: list[StickerOut]
    epoch: int = 1


class DeskBoard(NamedTuple):
    """A desk's row and its stickers' registers, as the view last folded them."""

    name: str
    desk_seq: int
    epoch: int
    last_edit_ms: int
    stickers: lww.Board


class DeskHead(NamedTuple):
    desk_seq: int
    epoch: int
    last_edit_at: datetime


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


def sticker_out(sticker_id: str, registers: lww.Registers) -> StickerOut:
    stamps = {field: lww.as_stamp(held[1]) for field, held in registers.items()}
    return StickerOut(id=sticker_id, stamps=stamps, **lww.values(registers))


class DeskView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def find_desk(self, desk_id: UUID) -> DeskViewOut | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT name, desk_seq, epoch FROM {self._s}.desk_views WHERE desk_id = $1",
                desk_id,
            )
            if row is None:
                return None
            stickers = await conn.fetch(
                f"SELECT sticker_id, registers::text FROM {self._s}.desk_stickers "
                "WHERE desk_id = $1 ORDER BY sticker_id",
                desk_id,
            )
        return DeskViewOut(
            desk_id,
            row["name"],
            row["desk_seq"],
            [sticker_out(s[0], msgspec.json.decode(s[1])) for s in stickers],
            row["epoch"],
        )

    async def find_board(self, desk_id: UUID) -> DeskBoard | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT name, desk_seq, epoch, last_edit_at FROM {self._s}.desk_views "
                "WHERE desk_id = $1",
                desk_id,
            )
            if row is None:
                return None
            stickers = await conn.fetch(
                f"SELECT sticker_id, registers::text FROM {self._s}.desk_stickers "
                "WHERE desk_id = $1",
                desk_id,
            )
        return DeskBoard(
            row["name"],
            row["desk_seq"],
            row["epoch"],
            epoch_ms(row["last_edit_at"]),
            {sticker_id: msgspec.json.decode(registers) for sticker_id, registers in stickers},
        )

    async def find_head(self, desk_id: UUID) -> DeskHead | None:
        row = await self._pool.fetchrow(
            f"SELECT desk_seq, epoch, last_edit_at FROM {self._s}.desk_views WHERE desk_id = $1",
            desk_id,
        )
        return None if row is None else DeskHead(row[0], row[1], row[2])

    async def edited_before(self, moment: datetime, limit: int = 1000) -> list[UUID]:
        """Live desks whose last edit is older than `moment`, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT desk_id FROM {self._s}.desk_views WHERE last_edit_at <= $1 "
            "ORDER BY last_edit_at LIMIT $2",
            moment,
            limit,
        )
        return [row[0] for row in rows]

    async def oldest_edit(self) -> datetime | None:
        moment: datetime | None = await self._pool.fetchval(
            f"SELECT min(last_edit_at) FROM {self._s}.desk_views"
        )
        return moment

    async def registers(
        self, conn: asyncpg.Connection, touched: set[tuple[UUID, str]]
    ) -> dict[UUID, lww.Board]:
        boards: dict[UUID, lww.Board] = {}
        if not touched:
            return boards
        desks, stickers = zip(*touched, strict=True)
        rows = await conn.fetch(
            f"SELECT t.desk_id, t.sticker_id, s.registers::text "
            f"FROM unnest($1::uuid[], $2::text[]) AS t(desk_id, sticker_id) "
            f"JOIN {self._s}.desk_stickers s USING (desk_id, sticker_id)",
            list(desks),
            list(stickers),
        )
        for desk_id, sticker_id, registers in rows:
            boards.setdefault(desk_id, {})[sticker_id] = msgspec.json.decode(registers)
        return boards

    async def write_created(self, conn: asyncpg.Connection, rows: list[DeskRow]) -> None:
        await conn.executemany(
            f"INSERT INTO {self._s}.desk_views (desk_id, name, desk_seq, last_edit_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (desk_id) DO NOTHING",
            [(r.desk_id, r.name, r.desk_seq, r.last_edit_at) for r in rows],
        )

    async def write_stickers(
        self, conn: asyncpg.Connection, stickers: list[tuple[UUID, str, Any]]
    ) -> None:
        """Upsert the batch's stickers in one statement (arrays, not a statement a row: the
        per-row executor start-up was most of PostgreSQL's work for this read model)."""
        if not stickers:
            return
        desks, ids, registers = zip(*stickers, strict=True)
        await conn.execute(
            f"INSERT INTO {self._s}.desk_stickers (desk_id, sticker_id, registers) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) "
            "ON CONFLICT (desk_id, sticker_id) DO UPDATE SET registers = excluded.registers",
            list(desks),
            list(ids),
            [_json.encode(r).decode() for r in registers],
        )

    async def write_heads(
        self, conn: asyncpg.Connection, heads: list[tuple[UUID, int, Any]]
    ) -> None:
        """Each desk's `desk_seq` and last edit, one statement for the batch (one row a desk)."""
        if not heads:
            return
        desks, seqs, edits = zip(*heads, strict=True)
        await conn.execute(
            f"UPDATE {self._s}.desk_views AS v SET desk_seq = h.desk_seq, "
            "last_edit_at = h.last_edit_at "
            "FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) "
            "AS h(desk_id, desk_seq, last_edit_at) WHERE v.desk_id = h.desk_id",
            list(desks),
            list(seqs),
            list(edits),
        )

    async def count_sessions(self, conn: asyncpg.Connection, desk_ids: list[UUID]) -> None:
        await conn.executemany(
            f"UPDATE {self._s}.desk_views SET epoch = epoch + 1 WHERE desk_id = $1",
            [(desk_id,) for desk_id in desk_ids],
        )

    async def drop(self, conn: asyncpg.Connection, desk_ids: list[UUID]) -> None:
        await conn.execute(f"DELETE FROM {self._s}.desk_stickers WHERE desk_id = ANY($1)", desk_ids)
        await conn.execute(f"DELETE FROM {self._s}.desk_views WHERE desk_id = ANY($1)", desk_ids)

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.desk_views, {self._s}.desk_stickers")


SLICE = 1000
"""Changes folded, and stickers written, at a time: folding a second's ops in one go took tens of
milliseconds (65 ms in one profile of a one-process node), and its sockets waited meanwhile."""

REGISTERS_KEPT = 200_000
"""Stickers whose registers the read model keeps between batches (a few hundred bytes each)."""


class DeskReadModel:
    """Folds desk events into the view. The registers of recently changed stickers stay in
    memory from batch to batch, as the bitmap stays in the canvas read model's: reading them back
    from PostgreSQL for every batch was most of the database's work for desks. Like every
    projection, it runs in one process (`tessera project desks`); a failed batch or a restart
    forgets what it kept, and it reads the view again."""

    name = "desks"
    topics = DesksProjection.topics

    def __init__(self, view: DeskView, *, kept: int = REGISTERS_KEPT) -> None:
        self.view = view
        self.projection = DesksProjection()
        self._kept: dict[tuple[UUID, str], lww.Registers] = {}
        self._kept_limit = kept

    async def load(self) -> None:
        self.projection = DesksProjection()  # the state is the view's, as of the last commit
        self._kept = {}

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        await self.load()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        batch = self.projection.collect()
        if batch.created:
            await self.view.write_created(conn, batch.created)
        if batch.changes:
            boards = await self._boards(conn, batch.touched())
            dirty: set[tuple[UUID, str]] = set()
            heads: dict[UUID, tuple[int, datetime]] = {}
            for start in range(0, len(batch.changes), SLICE):
                folded, last = fold(batch.changes[start : start + SLICE], boards)
                dirty |= folded
                heads.update(last)
                await asyncio.sleep(0)  # see SLICE
            stickers = [(desk, sticker, boards[desk][sticker]) for desk, sticker in dirty]
            for start in range(0, len(stickers), SLICE):
                await self.view.write_stickers(conn, stickers[start : start + SLICE])
            await self.view.write_heads(conn, [(d, seq, at) for d, (seq, at) in heads.items()])
            self._keep(boards)
        if batch.sessions:
            await self.view.count_sessions(conn, batch.sessions)
        if batch.closed:
            await self.view.drop(conn, batch.closed)
            closed = set(batch.closed)
            self._kept = {key: kept for key, kept in self._kept.items() if key[0] not in closed}
        return None

    async def _boards(
        self, conn: asyncpg.Connection, touched: set[tuple[UUID, str]]
    ) -> dict[UUID, lww.Board]:
        """The touched stickers' registers: those kept, and the rest from the view. `fold`
        changes them in place, so what is kept follows."""
        boards: dict[UUID, lww.Board] = {}
        missing: set[tuple[UUID, str]] = set()
        for key in touched:
            registers = self._kept.get(key)
            if registers is None:
                missing.add(key)
            else:
                boards.setdefault(key[0], {})[key[1]] = registers
        for desk_id, board in (await self.view.registers(conn, missing)).items():
            boards.setdefault(desk_id, {}).update(board)
        return boards

    def _keep(self, boards: dict[UUID, lww.Board]) -> None:
        kept = self._kept
        for desk_id, board in boards.items():
            for sticker_id, registers in board.items():
                key = (desk_id, sticker_id)
                kept.pop(key, None)  # to the end: the least recently changed go first
                kept[key] = registers
        overflow = len(kept) - self._kept_limit
        if overflow > 0:  # dicts keep insertion order
            for key in list(itertools.islice(kept, overflow)):
                del kept[key]
