"""Players' stats, rating histories, match histories, leaderboards and replays over HTTP, under
`/api/billiards`: reads of the players read model (`infra.billiards.players_reads`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.billiards.parts import BilliardsParts
from api.versions import parse_moment
from commands.text import LINE_PATTERN
from domain.billiards.errors import (
    InvalidSeason,
    MatchNotFinished,
    MatchNotFound,
    PlayerNotFound,
    UnknownGame,
)
from domain.billiards.seasons import ALL, check_game, check_season, season_of
from infra.billiards.players_reads import (
    HistoryEntry,
    PlayerOut,
    RatingChangeOut,
    RatingPoint,
    Standing,
)

Limit = Annotated[int, Parameter(ge=1, le=100)]
PathText = Annotated[str, Parameter(pattern=LINE_PATTERN, min_length=1, max_length=200)]
"""A player id or a game in a path: a control character in it is `422 invalid_text`."""
Season = Annotated[str, Parameter(max_length=16, description="`all`, `current` or `YYYY-MM`")]


class Leaderboard(msgspec.Struct):
    kind: str
    season: str
    total: int
    standings: list[Standing]


class BoardPlace(msgspec.Struct):
    kind: str
    season: str
    total: int
    standing: Standing


class RatingHistory(msgspec.Struct):
    player: str
    kind: str
    points: list[RatingPoint]


def _season(billiards: BilliardsParts, season: str) -> str:
    months = billiards.stats.season_months
    if season == "current":
        return season_of(billiards.stats.clock(), months)
    return check_season(season, months)


class PlayersController(Controller):
    path = "/api/billiards/players"
    tags = ("billiards",)

    @get("/{player:str}/stats", refuses=("invalid_text", PlayerNotFound))
    async def get_player_stats(
        self, player: FromPath[PathText], billiards: NamedDependency[BilliardsParts]
    ) -> PlayerOut:
        """Per game: results, balls, fouls, runs, streaks and the all-time rating with its
        rank; then the head-to-head record against each opponent."""
        return await billiards.stats.players.get_player(player)

    @get("/{player:str}/matches", refuses=("invalid_text", "invalid_time"))
    async def list_player_matches(
        self,
        player: FromPath[PathText],
        billiards: NamedDependency[BilliardsParts],
        limit: Limit = 20,
        before: Annotated[str | None, Parameter(description="an ISO 8601 time")] = None,
    ) -> list[HistoryEntry]:
        """The player's finished matches, newest first (`before`: an earlier page)."""
        until = None if before is None else parse_moment(before)
        return await billiards.stats.players.list_history(player, limit, until)

    @get("/{player:str}/ratings/{kind:str}", refuses=("invalid_text", UnknownGame))
    async def list_rating_points(
        self,
        player: FromPath[PathText],
        kind: FromPath[PathText],
        billiards: NamedDependency[BilliardsParts],
    ) -> RatingHistory:
        """The player's all-time rating (ordinal) after each match of the game, oldest first."""
        points = await billiards.stats.players.list_rating_points(player, check_game(kind))
        return RatingHistory(player, kind, points)


class LeaderboardController(Controller):
    path = "/api/billiards/leaderboards"
    tags = ("billiards",)

    @get("/{kind:str}", refuses=("invalid_text", UnknownGame, InvalidSeason))
    async def get_leaderboard(
        self,
        kind: FromPath[PathText],
        billiards: NamedDependency[BilliardsParts],
        season: Season = ALL,
        limit: Limit = 100,
        offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> Leaderboard:
        """Best ordinal (μ − 3σ) first; provisional ratings are marked, not left out."""
        check_game(kind)
        season = _season(billiards, season)
        total, standings = await billiards.stats.players.get_leaderboard(
            kind, season, limit, offset
        )
        return Leaderboard(kind, season, total, standings)

    @get(
        "/{kind:str}/players/{player:str}",
        refuses=("invalid_text", UnknownGame, InvalidSeason, PlayerNotFound),
    )
    async def get_board_place(
        self,
        kind: FromPath[PathText],
        player: FromPath[PathText],
        billiards: NamedDependency[BilliardsParts],
        season: Season = ALL,
    ) -> BoardPlace:
        """One player's rank on a board, without reading the board."""
        check_game(kind)
        season = _season(billiards, season)
        total, standing = await billiards.stats.players.get_place(kind, season, player)
        return BoardPlace(kind, season, total, standing)


class ReplayController(Controller):
    path = "/api/billiards/matches/{match_id:uuid}"
    tags = ("billiards",)

    @get("/replay", refuses=(MatchNotFound, MatchNotFinished))
    async def get_replay(
        self, match_id: FromPath[UUID], billiards: NamedDependency[BilliardsParts]
    ) -> dict[str, Any]:
        """A finished match shot by shot, with the table after each shot and each player's
        rating change."""
        replay = await billiards.stats.replays.get_replay(match_id)
        changes = await billiards.stats.players.list_rating_changes(match_id)
        return {**replay, "rating_changes": [msgspec.to_builtins(c) for c in changes]}

    @get("/rating-changes/{player:str}", refuses=("invalid_text", PlayerNotFound))
    async def get_rating_change(
        self, match_id: FromPath[UUID], player: FromPath[PathText],
        billiards: NamedDependency[BilliardsParts],
    ) -> RatingChangeOut:
        change = await billiards.stats.players.rating_change(match_id, player)
        if change is None:
            raise PlayerNotFound(f"no rating change of {player!r} in match {match_id}")
        return change
