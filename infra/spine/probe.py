"""Whether PostgreSQL answers, asked on a connection of the probe's own.

`/readyz` used to ask through the node's pool: under load every connection of it was busy with
the node's own work, `SELECT 1` waited its turn past the readiness timeout, and the node called
the database unreachable — answering 503 and leaving HAProxy no node while the other one was
restarting, though the database answered every other query. A busy pool says nothing about the
database; a dedicated connection says what the check means.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

AWAY = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What a query raises when PostgreSQL is away (down, unreachable, or too slow to answer)."""


class DatabaseProbe:
    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def answers(self, timeout_s: float) -> bool:
        """`SELECT 1` within `timeout_s` (connecting first if need be). Concurrent checks wait
        for the one in flight rather than share its connection."""
        try:
            async with asyncio.timeout(timeout_s), self._lock:
                try:
                    if self._conn is None or self._conn.is_closed():
                        self._conn = await asyncpg.connect(self._url)
                    await self._conn.fetchval("SELECT 1")
                except BaseException:
                    self._drop()  # failed, or cut mid-query by the timeout: unusable
                    raise
        except AWAY:
            return False  # (a check that timed out waiting for the lock leaves it be)
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(*AWAY):
                await asyncio.wait_for(conn.close(), 2)
