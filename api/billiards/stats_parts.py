"""The stats and ratings side's running parts, one field of `BilliardsParts` (`stats`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from infra.billiards.players_reads import PlayersView
from infra.billiards.replays import ReplaysView


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StatsParts:
    players: PlayersView
    replays: ReplaysView
    season_months: int = 1
    clock: Callable[[], datetime] = field(default=_now)

    @classmethod
    def build(cls, pool: asyncpg.Pool, schema: str, season_months: int) -> StatsParts:
        return cls(PlayersView(pool, schema), ReplaysView(pool, schema), season_months)
