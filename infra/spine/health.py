"""How far each read model is from its context's event store, read from PostgreSQL so that any
node answers for all of them, whichever process runs the projections.

A projection is far behind when `behind_events` events of its topics wait after its position;
stalled when some wait and its position has not moved for `stalled_s` (as this node has seen
it: the first report that finds it behind at a position starts the clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from infra.spine.dead_letters import DeadLetters
from infra.spine.readmodels import quote_ident
from infra.spine.store_reader import StoreReader


@dataclass(frozen=True)
class Followed:
    """A read model as the report sees it: its name, its topics and its context's store."""

    name: str
    topics: tuple[str, ...]
    store: StoreReader


class ProjectionState(msgspec.Struct):
    position: int
    newest: int
    """The newest notification id of its context's event store."""
    behind: int
    """Events of its topics after its position (counted up to the far-behind threshold)."""
    far_behind: bool
    stalled: bool
    stalled_for_s: float
    behind_for_s: float
    """How long it has been behind without a break (0 when it is up to date), as this node's
    reports saw it: the read model's lag in time."""
    dead_letters: int
    """Events it set aside, not replayed yet."""

    @property
    def healthy(self) -> bool:
        return not (self.far_behind or self.stalled)


class ProjectionHealth:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        followed: Sequence[Followed],
        *,
        stalled_s: float,
        behind_events: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._positions = f"{quote_ident(schema)}.projection_positions"
        self._letters = DeadLetters(pool, schema)
        self._followed = list(followed)
        self._stalled_s = stalled_s
        self._behind_events = max(1, behind_events)
        self._clock = clock
        self._behind_since: dict[str, tuple[int, float]] = {}
        """Per projection found behind: the position it was at, and since when (this clock)."""
        self._behind_from: dict[str, float] = {}
        """Per projection found behind: since when it has been, at any position."""

    async def report(self) -> dict[str, ProjectionState]:
        rows = await self._pool.fetch(
            f"SELECT name, position FROM {self._positions} WHERE name = ANY($1::text[])",
            [followed.name for followed in self._followed],
        )
        positions = {row[0]: row[1] for row in rows}
        letters = await self._letters.count_waiting()
        newest: dict[int, int] = {}
        report: dict[str, ProjectionState] = {}
        for followed in self._followed:
            store = followed.store
            if id(store) not in newest:
                newest[id(store)] = await store.max_notification_id()
            position = positions.get(followed.name, 0)
            behind = await store.count_after(position, followed.topics, self._behind_events)
            stalled_for = self._stalled_for(followed.name, position, behind)
            behind_for = self._behind_for(followed.name, behind)
            report[followed.name] = ProjectionState(
                position=position,
                newest=newest[id(store)],
                behind=behind,
                far_behind=behind >= self._behind_events,
                stalled=behind > 0 and stalled_for >= self._stalled_s,
                stalled_for_s=round(stalled_for, 1),
                behind_for_s=round(behind_for, 1),
                dead_letters=letters.get(followed.name, 0),
            )
        return report

    def _behind_for(self, name: str, behind: int) -> float:
        """How long the projection has been behind, moving or not."""
        if behind == 0:
            self._behind_from.pop(name, None)
            return 0.0
        now = self._clock()
        return now - self._behind_from.setdefault(name, now)

    def _stalled_for(self, name: str, position: int, behind: int) -> float:
        """How long the projection has been behind at this very position."""
        now = self._clock()
        if behind == 0:
            self._behind_since.pop(name, None)
            return 0.0
        seen = self._behind_since.get(name)
        if seen is None or seen[0] != position:
            self._behind_since[name] = seen = (position, now)
        return now - seen[1]
