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
        """`read`, each page as columns (see `Columns`): PostgreSQL packs a window's fixed-size
        fields into one bytea and its states into another, and numpy reads them without a
        Python object per event."""
        statement = (
            "SELECT count(*), string_agg(int8send(notification_id) || int8send(originator_version)"
            " || int2send((array_position($3::text[], topic) - 1)::int2)"
            " || int4send(length(state)) || uuid_send(originator_id), ''), string_agg(state, '') "
            f"FROM (SELECT * FROM {self._table} WHERE notification_id > $1 "
            "AND notification_id <= $2 AND topic = ANY($3::text[]) "
            "ORDER BY notification_id) AS page"
        )
        names = tuple(topics)
        async with contextlib.aclosing(
            self._windows(statement, after, upto, page, [list(names)])
        ) as pages:
            async for rows in pages:
                count, packed, states = rows[0]
                if count:
                    yield _columns(names, np.frombuffer(packed, _HEAD), states)

    async def _windows(
        self, statement: str, after: int, upto: int | None, page: int, args: Sequence[object]
    ) -> AsyncGenerator[list[asyncpg.Record], None]:
        end = upto if upto is not None else await self.max_notification_id()
        async with self._pool.acquire() as conn:
            windows_read = windows(conn, statement, after, end, page, args)
            async with contextlib.aclosing(windows_read):
                async for _, rows in windows_read:
                    yield rows


async def windows(
    conn: asyncpg.Connection,
    statement: str,
    after: int,
    end: int,
    page: int,
    args: Sequence[object] = (),
) -> AsyncGenerator[tuple[int, list[asyncpg.Record]], None]:
    """For each window of `page` notification ids in (after, end], its upper bound and the rows
    of `statement` ($1 and $2 the window's bounds, then `args`), one window read ahead: the
    next travels while the caller works on this one.

    A window of ids, not `LIMIT page` rows after a position: on a table just filled, before
    PostgreSQL has analysed it, the planner reads every row to the end of the log and sorts
    them on disk for each LIMIT page (400 ms a page of 20,000 where the window takes 25 ms).
    Ids are dense, so a window holds about `page` events."""
    prepared = await conn.prepare(statement)

    def fetch(low: int) -> asyncio.Task[list[asyncpg.Record]]:
        return asyncio.create_task(prepared.fetch(low, min(low + page, end), *args))

    low = after
    ahead = fetch(low) if low < end else None
    try:
        while ahead is not None:
            rows = await ahead
            low = min(low + page, end)
            ahead = fetch(low) if low < end else None
            yield low, rows
    finally:
        if ahead is not None:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ahead


_HEAD = np.dtype([("id", ">i8"), ("version", ">i8"), ("topic", ">i2"), ("state_length", ">i4"),
                  ("originator", "<u8", 2)])
"""A packed event of `read_columns`, but its state."""


def packed_columns(topics: tuple[str, ...], packed: bytes, states: bytes, *, by: str = "id"
                   ) -> Columns:
    """Columns of a window packed as `read_columns` packs it (a bytea of `_HEAD` records and
    one of the states), ordered by `by` ("id": log order; "version": one aggregate's)."""
    return _columns(topics, np.frombuffer(packed, _HEAD), states, by=by)


def _columns(topics: tuple[str, ...], head: np.ndarray, states: bytes, *, by: str = "id"
             ) -> Columns:
    """A window's packed columns as numpy arrays, in log order (or `by` version)."""
    ids = head["id"].astype(np.int64)
    lengths = head["state_length"].astype(np.int64)
    key = head[by]
    if not (key[1:] > key[:-1]).all():
        # PostgreSQL aggregates a sorted subquery's rows in its order (what its documentation
        # says "usually" holds); should a plan ever differ, put them in order here.
        order = np.argsort(key, kind="stable")
        ends = np.cumsum(lengths)
        starts = ends - lengths
        states = b"".join(states[starts[i] : ends[i]] for i in order.tolist())
        head, ids, lengths = head[order], ids[order], lengths[order]
    return Columns(
        topics, ids, head["version"].astype(np.int64), head["topic"].astype(np.intp),
        np.ascontiguousarray(head["originator"]), np.cumsum(lengths), states,
    )
