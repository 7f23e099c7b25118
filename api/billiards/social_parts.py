"""What the friends, groups and notification handlers receive (`BilliardsParts.social`), and the
seams the stats context fills at merge: `rank_players` ranks a set of accounts (a group's
members, a player and his friends); `rating_change` (the notifier's) gives a player's rating
change in a match. Both stay None until connected: the pages then show the members unranked and
the results go without a rating change."""

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


def provide_social(state: State) -> SocialParts:
    """The `social` dependency of the friends and groups controllers."""
    from api.billiards.parts import provide_billiards  # parts.py imports this module

    social = provide_billiards(state).social
    assert social is not None, "the billiards context was started without its social parts"
    return social
