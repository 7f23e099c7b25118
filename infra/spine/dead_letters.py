"""Dead letters: the events a projection could not apply and set aside so that the events after
them still reach its read model (`ProjectionRunner`), and their replay once the read model is
fixed (`tessera dead-letters --replay`).

The event stays in the event store; a dead letter only says which one, for which read model, and
why. A replay is asked for here and done by the runner that owns the read model (its in-memory
state must see the change): the runner looks for requests every few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from commands.text import escaped
from infra.spine.readmodels import quote_ident
from projections.recorded import Recorded

MAX_ERROR = 2000
"""Characters of an error's text kept with its dead letter."""


@dataclass(frozen=True)
class DeadLetter:
    projection: str
    notification_id: int
    topic: str
    originator_id: UUID
    originator_version: int
    error: str
    failed_at: datetime
    replay_requested_at: datetime | None
    replayed_at: datetime | None


def poisonous(error: BaseException) -> bool:
    """Whether `error`, met applying or writing events, may be the fault of an event (so that
    applying it alone tells), rather than of PostgreSQL or the network being away, or the schema
    missing: those are waited out, never blamed on an event."""
    if isinstance(error, asyncpg.PostgresError):  # refused by the server: blame only its data
        return isinstance(error, (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError))
    if isinstance(error, asyncpg.InterfaceError):  # client-side: bad input (a ValueError) or not
        return isinstance(error, ValueError)
    return not isinstance(error, (OSError, TimeoutError, ConnectionError))


def describe(error: BaseException) -> str:
    """An error's class and text, control characters escaped (the text may quote the event)."""
    return escaped(f"{type(error).__name__}: {error}")[:MAX_ERROR]


class DeadLetters:
    """The dead-letter table of a schema."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._table = f"{quote_ident(schema)}.projection_dead_letters"

    async def record(
        self, conn: asyncpg.Connection, projection: str, event: Recorded, error: BaseException
    ) -> None:
        """Set `event` aside for `projection` (again, if it was: the newest error counts)."""
        await conn.execute(
            f"INSERT INTO {self._table} (projection, notification_id, topic, originator_id, "
            "originator_version, error) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (projection, notification_id) DO UPDATE SET error = EXCLUDED.error, "
            "failed_at = now(), replay_requested_at = NULL, replayed_at = NULL",
            projection,
            event.notification_id,
            event.topic,
            event.originator_id,
            event.originator_version,
            describe(error),
        )

    async def list_dead_letters(
        self, projection: str | None = None, *, replayed: bool = False
    ) -> list[DeadLetter]:
        """In log order: those not replayed yet, or with `replayed` those replayed too."""
        rows = await self._pool.fetch(
            f"SELECT * FROM {self._table} WHERE ($1::text IS NULL OR projection = $1) "
            "AND ($2 OR replayed_at IS NULL) ORDER BY projection, notification_id",
            projection,
            replayed,
        )
        return [_letter(row) for row in rows]

    async def count_waiting(self) -> dict[str, int]:
        """Dead letters not replayed yet, per projection."""
        rows = await self._pool.fetch(
            f"SELECT projection, count(*) FROM {self._table} WHERE replayed_at IS NULL "
            "GROUP BY projection"
        )
        return {row[0]: row[1] for row in rows}

    async def request_replay(self, projection: str | None = None) -> list[tuple[str, int]]:
        """Ask the runners to replay the dead letters not replayed yet; returns which."""
        rows = await self._pool.fetch(
            f"UPDATE {self._table} SET replay_requested_at = now() "
            "WHERE replayed_at IS NULL AND ($1::text IS NULL OR projection = $1) "
            "RETURNING projection, notification_id",
            projection,
        )
        return sorted((row[0], row[1]) for row in rows)

    async def list_requested(self, projection: str) -> list[DeadLetter]:
        rows = await self._pool.fetch(
            f"SELECT * FROM {self._table} WHERE projection = $1 "
            "AND replay_requested_at IS NOT NULL AND replayed_at IS NULL ORDER BY notification_id",
            projection,
        )
        return [_letter(row) for row in rows]

    async def list_by_keys(self, keys: Sequence[tuple[str, int]]) -> list[DeadLetter]:
        """These dead letters (projection, notification id), as they stand now."""
        rows = await self._pool.fetch(
            f"SELECT d.* FROM {self._table} d JOIN unnest($1::text[], $2::bigint[]) "
            "AS k(projection, notification_id) USING (projection, notification_id) "
            "ORDER BY projection, notification_id",
            [key[0] for key in keys],
            [key[1] for key in keys],
        )
        return [_letter(row) for row in rows]

    async def replayed(self, conn: asyncpg.Connection, projection: str, notification_id: int) -> None:
        """Inside the transaction that wrote the replayed event."""
        await conn.execute(
            f"UPDATE {self._table} SET replayed_at = now(), replay_requested_at = NULL "
            "WHERE projection = $1 AND notification_id = $2",
            projection,
            notification_id,
        )

    async def failed_again(self, projection: str, notification_id: int, error: str) -> None:
        """A replay failed: the dead letter stays, with why."""
        await self._pool.execute(
            f"UPDATE {self._table} SET error = $3, failed_at = now(), replay_requested_at = NULL "
            "WHERE projection = $1 AND notification_id = $2",
            projection,
            notification_id,
            error[:MAX_ERROR],
        )


def _letter(row: asyncpg.Record) -> DeadLetter:
    return DeadLetter(
        row["projection"],
        row["notification_id"],
        row["topic"],
        row["originator_id"],
        row["originator_version"],
        row["error"],
        row["failed_at"],
        row["replay_requested_at"],
        row["replayed_at"],
    )
