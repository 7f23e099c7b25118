"""What the friends, groups and notification handlers receive (`BilliardsParts.social`): with
`rank_players`, which ranks a set of accounts (a group's members, a player and his friends) on
the players read model (`api.billiards.seams`; tests may leave it out: the pages then list the
people unranked)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.datastructures import State

from api.billiards.bot import BilliardsBot
from commands.billiards.social import Social
from infra.billiards.outbox import OutboxView
from infra.billiards.social_views import SocialView

RankPlayers = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]
"""`rank_players(accounts)`: those players' leaderboard rows, best first."""


@dataclass
class SocialParts:
    social: Social
    view: SocialView
    outbox: OutboxView
    telegram_bot_token: str
    telegram_max_age_s: int
    bot: BilliardsBot | None = None
    """The Mini App's commands on the Telegram bot (`api.app.build` hands them to it)."""
    rank_players: RankPlayers | None = None

    async def standings(self, people: list[dict[str, Any]]) -> dict[str, Any]:
        """People (each with its `account`) ranked, best first, then those without a rated
        match yet, as they were listed: a leaderboard of a group or of friends."""
        if self.rank_players is None:
            return {"ranked": False, "players": people}
        ranked = await self.rank_players([person["account"] for person in people])
        rated = {row["account"] for row in ranked}
        return {"ranked": True,
                "players": ranked + [p for p in people if p["account"] not in rated]}


def provide_social(state: State) -> SocialParts:
    """The `social` dependency of the friends and groups controllers."""
    from api.billiards.parts import provide_billiards  # parts.py imports this module

    social = provide_billiards(state).social
    assert social is not None, "the billiards context was started without its social parts"
    return social
