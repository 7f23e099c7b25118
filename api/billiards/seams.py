"""Adapters that connect the social side's two seams to a ratings board (the stats side's
`infra.billiards.players_reads.PlayersView`, which has `rank_among` and `rating_change`), so
that at merge wiring only says `rank_players=ranks_on(stats.players)` and
`rating_change=changes_on(stats.players)`. Typed by what they read, not by the stats modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

from api.billiards.social_parts import RankPlayers


class RatingsBoard(Protocol):
    async def rank_among(
        self, kind: str, season: str, players: Sequence[str], limit: int = 100
    ) -> Sequence[Any]:
        """Rows with `rank`, `player`, `name`, `ordinal`, `matches`, best first."""

    async def rating_change(self, match_id: UUID, player: str) -> Any | None:
        """A row with `change` (the ordinal's), or None."""


def ranks_on(board: RatingsBoard, game: str = "american", season: str = "all") -> RankPlayers:
    """`rank_players(accounts)`: those players on the board of `game` and `season`, as the
    group and friends pages show them (`account`, `name`, `rating`, `rank`, `matches`)."""

    async def rank_players(accounts: list[str]) -> list[dict[str, Any]]:
        rows = await board.rank_among(game, season, accounts, limit=len(accounts) or 1)
        return [
            {"account": row.player, "name": row.name, "rating": round(row.ordinal, 1),
             "rank": row.rank, "matches": row.matches}
            for row in rows
        ]

    return rank_players


def changes_on(board: RatingsBoard) -> Callable[[str, str], Awaitable[float | None]]:
    """`rating_change(match_id, player_id)` for the result notifications."""

    async def rating_change(match_id: str, player: str) -> float | None:
        change = await board.rating_change(UUID(match_id), player)
        return None if change is None else float(change.change)

    return rating_change
