"""Reading a context's notification log straight from PostgreSQL, page by page (asyncpg).

Used to catch a projection up and to rebuild it: far faster than replaying the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence

import asyncpg
import numpy as np

from infra.spine.readmodels import quote_ident
from projections.recorded import Columns, Recorded


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
        """Pages of events with notification ids in (after, upto], in log order."""
        where = "notification_id > $1 AND notification_id <= $2"
        if topics:
            where += " AND topic = ANY($3::text[])"
        statement = (
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self._table} WHERE {where} ORDER BY notification_id"
        )
        args = [list(topics)] if topics else []
        async with contextlib.aclosing(self._windows(statement, after, upto, page, args)) as pages:
            async for rows in pages:
                if rows:
                    yield [Recorded(*row) for row in rows]

    async def read_columns(
        self, after: int, *, topics: Sequence[str], upto: int | None = None, page: int = 50_000
    ) -> AsyncGenerator[Columns, None]:
        """`read`, each page as columns (see `Columns`): PostgreSQL packs each column of a
        window into one bytea, and numpy reads it without a Python object per event."""
        statement = (
            "SELECT count(*), string_agg(int8send(notification_id), ''), "
            "string_agg(int8send(originator_version), ''), "
            "string_agg(int2send((array_position($3::text[], topic) - 1)::int2), ''), "
            "string_agg(uuid_send(originator_id), ''), "
            "string_agg(int4send(length(state)), ''), string_agg(state, '') "
            f"FROM (SELECT * FROM {self._table} WHERE notification_id > $1 "
            "AND notification_id <= $2 AND topic = ANY($3::text[]) "
            "ORDER BY notification_id) AS page"
        )
        names = tuple(topics)
        async with contextlib.aclosing(
            self._windows(statement, after, upto, page, [list(names)])
        ) as pages:
            async for rows in pages:
                if rows[0][0]:
                    yield _columns(names, *rows[0][1:])

    async def _windows(
        self, statement: str, after: int, upto: int | None, page: int, args: Sequence[object]
    ) -> AsyncGenerator[list[asyncpg.Record], None]:
        """The rows of `statement` ($1, $2: a window's bounds; then `args`) for each window of
        `page` notification ids in (after, upto].

        A window of ids, not `LIMIT page` rows after a position: on a table just filled,
        before PostgreSQL has analysed it, the planner reads every row to the end of the log
        and sorts them on disk for each LIMIT page (400 ms a page of 20,000 where the window
        takes 25 ms). Ids are dense, so a window holds about `page` events."""
        end = upto if upto is not None else await self.max_notification_id()
        async with self._pool.acquire() as conn:
            prepared = await conn.prepare(statement)

            def fetch(start: int) -> asyncio.Task[list[asyncpg.Record]]:
                return asyncio.create_task(prepared.fetch(start, min(start + page, end), *args))

            # Read one window ahead: the next travels while the caller applies this one.
            start = after
            ahead = fetch(start) if start < end else None
            try:
                while ahead is not None:
                    rows = await ahead
                    start = min(start + page, end)
                    ahead = fetch(start) if start < end else None
                    yield rows
            finally:
                if ahead is not None:
                    ahead.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await ahead


def _columns(
    topics: tuple[str, ...], ids: bytes, versions: bytes, codes: bytes, originators: bytes,
    lengths: bytes, states: bytes,
) -> Columns:
    """A window's packed columns as numpy arrays, in log order."""
    id_column = np.frombuffer(ids, ">i8").astype(np.int64)
    version_column = np.frombuffer(versions, ">i8").astype(np.int64)
    code_column = np.frombuffer(codes, ">i2").astype(np.intp)
    originator_column = np.frombuffer(originators, np.uint64).reshape(-1, 2)
    length_column = np.frombuffer(lengths, ">i4").astype(np.int64)
    ends = np.cumsum(length_column)
    if not (id_column[1:] > id_column[:-1]).all():
        # PostgreSQL aggregates a sorted subquery's rows in its order (what its documentation
        # says "usually" holds); should a plan ever differ, put them in order here.
        order = np.argsort(id_column, kind="stable")
        starts = ends - length_column
        states = b"".join(states[starts[i] : ends[i]] for i in order.tolist())
        id_column, version_column = id_column[order], version_column[order]
        code_column, originator_column = code_column[order], originator_column[order]
        ends = np.cumsum(length_column[order])
    return Columns(
        topics, id_column, version_column, code_column, originator_column, ends, states
    )
