"""The players read model (stats and ratings) as the projection runner drives it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

import asyncpg

from infra.billiards.players_view import PlayersWriter, load_rows
from infra.spine.read_model import AfterCommit, Write
from projections.billiards.players import PlayersProjection
from projections.billiards.ratings import Rating
from projections.billiards.stats import PlayerStats
from projections.recorded import Columns, Recorded

Counted = Callable[[list[UUID]], Awaitable[None]]


class PlayersReadModel:
    name = "billiards_players"
    topics = PlayersProjection.topics

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        *,
        season_months: int = 1,
        on_counted: Counted | None = None,
    ) -> None:
        """`on_counted`: called after each commit with the matches it counted (or took back),
        for whoever tells players (their rating changes are then readable)."""
        self._pool = pool
        self._schema = schema
        self._season_months = season_months
        self._writer = PlayersWriter(schema)
        self._on_counted = on_counted
        self.projection = PlayersProjection(season_months)

    async def load(self) -> None:
        projection = PlayersProjection(self._season_months)
        async with self._pool.acquire() as conn:
            stats, ratings, ledger = await load_rows(conn, self._schema)
        for row in stats:
            projection.stats.players[(row["player"], row["kind"])] = PlayerStats(*row[2:])
        book = projection.ratings
        for kind, season, player, name, mu, sigma, matches, last, bucket in ratings:
            book.boards.setdefault((kind, season), {})[player] = Rating(
                name, mu, sigma, matches, last
            )
            book.flushed[(kind, season, player)] = bucket
        projection.ledger.restore(ledger)
        self.projection = projection

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self._writer.reset(conn)
        self.projection = PlayersProjection(self._season_months)

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    def apply_page(self, events: Sequence[Recorded]) -> None:
        self.projection.apply_page(events)

    def apply_columns(self, page: Columns) -> None:
        self.projection.apply_columns(page)

    def take_changes(self) -> Write:
        """What the events applied so far changed, as rows taken now: a catch-up applies the
        next page while they are written."""
        changes = self.projection.collect()
        rows = self._writer.prepare(changes)
        told, counted = self._on_counted, changes.counted

        async def write(conn: asyncpg.Connection) -> AfterCommit | None:
            await self._writer.write(conn, rows)
            if not counted or told is None:
                return None
            return lambda: told(counted)

        return write

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        return await self.take_changes()(conn)
