"""Reading a context's notification log straight from PostgreSQL, page by page (asyncpg).

Used to catch a projection up and to rebuild it: far faster than replaying the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence

import asyncpg

from infra.spine.readmodels import quote_ident
from projections.recorded import Recorded


class StoreReader:
    def __init__(self, pool: asyncpg.Pool, schema: str, table: str) -> None:
        self._pool = pool
        self._table = f"{quote_ident(schema)}.{quote_ident(table)}"

    def connection(self) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
        return self._pool.acquire()

    async def max_notification_id(self, conn: asyncpg.Connection | None = None) -> int:
        """The last notification id in the store (0 if none), on `conn` or a pooled one."""
        statement = f"SELECT max(notification_id) FROM {self._table}"
        value = await (conn or self._pool).fetchval(statement)
        return int(value or 0)

    async def count_after(self, after: int, topics: Sequence[str], limit: int) -> int:
        """Events of `topics` (all, if none) after `after`, counted up to `limit`: a scan of the
        primary key from `after`, however long the log before it."""
        value = await self._pool.fetchval(
            f"SELECT count(*) FROM (SELECT 1 FROM {self._table} WHERE notification_id > $1 "
            "AND (cardinality($2::text[]) = 0 OR topic = ANY($2::text[])) "
            "ORDER BY notification_id LIMIT $3) AS waiting",
            after,
            list(topics),
            limit,
        )
        return int(value)

    async def find_event(self, notification_id: int) -> Recorded | None:
        row = await self._pool.fetchrow(
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self._table} WHERE notification_id = $1",
            notification_id,
        )
        return None if row is None else Recorded(*row)

    async def page_after(self, conn: asyncpg.Connection, after: int, limit: int) -> list[Recorded]:
        """Up to `limit` events after `after`, in log order, on the caller's connection (its
        statement cache keeps the query prepared: what a follower asking every few ms needs)."""
        rows = await conn.fetch(
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self._table} WHERE notification_id > $1 ORDER BY notification_id LIMIT $2",
            after,
            limit,
        )
        return [Recorded(*row) for row in rows]

    async def read(
        self,
        after: int,
        *,
        topics: Sequence[str] = (),
        upto: int | None = None,
        page: int = 20_000,
    ) -> AsyncGenerator[list[Recorded], None]:
        """Pages of events with notification ids in (after, upto], in log order.

        A page is a window of `page` notification ids, not `LIMIT page` rows after `after`: on a
        table just filled, before PostgreSQL has analysed it, the planner reads every row to the
        end of the log and sorts them on disk for each LIMIT page (400 ms a page of 20,000 where
        the window takes 25 ms). Ids are dense, so a window holds about `page` events (fewer of
        `topics`; a window without any is skipped)."""
        where = "notification_id > $1 AND notification_id <= $2"
        if topics:
            where += " AND topic = ANY($3::text[])"
        statement = (
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self._table} WHERE {where} ORDER BY notification_id"
        )
        end = upto if upto is not None else await self.max_notification_id()
        async with self._pool.acquire() as conn:
            prepared = await conn.prepare(statement)

            def fetch(start: int) -> asyncio.Task[list[asyncpg.Record]]:
                args: list[object] = [start, min(start + page, end)]
                if topics:
                    args.append(list(topics))
                return asyncio.create_task(prepared.fetch(*args))

            # Read one window ahead: the next travels while the caller applies this one.
            start = after
            ahead = fetch(start) if start < end else None
            try:
                while ahead is not None:
                    rows = await ahead
                    start = min(start + page, end)
                    ahead = fetch(start) if start < end else None
                    if rows:
                        yield [Recorded(*row) for row in rows]
            finally:
                if ahead is not None:
                    ahead.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await ahead
