"""Reads of the players read model: stats, histories, rating points, leaderboards and ranks.

A rank is 1 + the players in the buckets above one's own (a sum over at most a few hundred
bucket rows) + those ahead in one's own bucket (an index range of that bucket only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from domain.billiards.errors import PlayerNotFound
from domain.billiards.seasons import ALL
from infra.spine.readmodels import quote_ident
from projections.billiards.ratings import PROVISIONAL, ordinal


class RatingOut(msgspec.Struct):
    ordinal: float
    mu: float
    sigma: float
    matches: int
    provisional: bool
    rank: int | None = None


class GameStats(msgspec.Struct):
    kind: str
    matches: int
    wins: int
    losses: int
    draws: int
    win_rate: float
    balls: int
    fouls: int
    turns: int
    balls_per_turn: float
    best_run: int
    streak: int
    longest_streak: int
    last_at: datetime | None
    rating: RatingOut | None


class HeadToHead(msgspec.Struct):
    opponent: str
    name: str
    kind: str
    matches: int
    wins: int
    losses: int
    draws: int


class PlayerOut(msgspec.Struct):
    player: str
    name: str
    games: list[GameStats]
    head_to_head: list[HeadToHead]


class HistoryEntry(msgspec.Struct):
    match_id: UUID
    kind: str
    at: datetime
    place: int
    seats: int
    result: str
    balls: int
    fouls: int
    turns: int
    best_run: int
    opponents: list[str]
    rating_change: float | None


class RatingPoint(msgspec.Struct):
    at: datetime
    match_id: UUID
    ordinal: float
    mu: float
    sigma: float


class Standing(msgspec.Struct):
    rank: int
    player: str
    name: str
    ordinal: float
    mu: float
    sigma: float
    matches: int
    provisional: bool


class RatingChangeOut(msgspec.Struct):
    match_id: UUID
    player: str
    kind: str
    before: float
    """The ordinal before the match (all-time board)."""
    after: float
    change: float
    mu: float
    sigma: float
    matches: int
    provisional: bool


def _standing(rank: int, row: asyncpg.Record) -> Standing:
    return Standing(rank, row["player"], row["name"], row["ordinal"], row["mu"], row["sigma"],
                    row["matches"], row["matches"] < PROVISIONAL)


_RANK = (
    "1 + (SELECT coalesce(sum(b.n), 0) FROM {s}.billiards_rating_buckets b WHERE b.kind = r.kind "
    "AND b.season = r.season AND b.bucket > r.bucket) + (SELECT count(*) FROM "
    "{s}.billiards_ratings o WHERE o.kind = r.kind AND o.season = r.season AND "
    "o.bucket = r.bucket AND (o.ordinal > r.ordinal OR (o.ordinal = r.ordinal "
    "AND o.player < r.player)))"
)
"""A rating row `r`'s rank: the players in the buckets above its own, and those ahead of it
in its own."""


class PlayersView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def get_player(self, player: str) -> PlayerOut:
        """One statement (one round trip): the player's games, each with its all-time rating
        and rank, and his head-to-head records."""
        s = self._s
        row = await self._pool.fetchrow(
            f"SELECT array(SELECT (g.kind, g.name, g.matches, g.wins, g.losses, g.draws, "
            "g.balls, g.fouls, g.turns, g.best_run, g.streak, g.longest_streak, g.last_at, "
            f"r.ordinal, r.mu, r.sigma, r.matches, CASE WHEN r.player IS NOT NULL THEN "
            f"{_RANK.format(s=s)} END) FROM {s}.billiards_player_stats g "
            f"LEFT JOIN {s}.billiards_ratings r ON r.kind = g.kind AND r.season = $2 "
            "AND r.player = g.player WHERE g.player = $1 ORDER BY g.kind) AS games, "
            "array(SELECT (v.opponent, v.name, v.kind, v.matches, v.wins, v.losses, v.draws) "
            f"FROM {s}.billiards_head_to_head v WHERE v.player = $1 "
            "ORDER BY v.matches DESC, v.opponent LIMIT 200) AS versus",
            player, ALL,
        )
        games = row["games"]
        if not games:
            raise PlayerNotFound(f"no finished match of player {player!r}")
        out = []
        for (kind, _, matches, wins, losses, draws, balls, fouls, turns, best_run, streak,
             longest_streak, last_at, rated, mu, sigma, rated_matches, rank) in games:
            rating = None if rated is None else RatingOut(
                rated, mu, sigma, rated_matches, rated_matches < PROVISIONAL, rank
            )
            out.append(GameStats(
                kind, matches, wins, losses, draws,
                round(wins / matches, 4) if matches else 0.0, balls, fouls, turns,
                round(balls / turns, 3) if turns else 0.0, best_run, streak, longest_streak,
                last_at, rating,
            ))
        latest = max(games, key=lambda g: g[12])
        return PlayerOut(
            player, latest[1], out,
            [HeadToHead(*versus) for versus in row["versus"] if versus[3] > 0],
        )

    async def list_history(
        self, player: str, limit: int = 20, before: datetime | None = None
    ) -> list[HistoryEntry]:
        rows = await self._pool.fetch(
            f"SELECT m.*, c.mu - 3 * c.sigma - (c.mu_before - 3 * c.sigma_before) AS change "
            f"FROM {self._s}.billiards_player_matches m LEFT JOIN {self._s}.billiards_rating_changes c "
            "ON c.match_id = m.match_id AND c.player = m.player AND c.season = 'all' "
            "WHERE m.player = $1 AND ($2::timestamptz IS NULL OR m.at < $2) "
            "ORDER BY m.at DESC, m.match_id LIMIT $3",
            player, before, limit,
        )
        return [
            HistoryEntry(r["match_id"], r["kind"], r["at"], r["place"], r["seats"], r["result"],
                         r["balls"], r["fouls"], r["turns"], r["best_run"], list(r["opponents"]),
                         r["change"])
            for r in rows
        ]

    async def list_rating_points(
        self, player: str, kind: str, limit: int = 500
    ) -> list[RatingPoint]:
        """The all-time rating after each of the player's last `limit` matches, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT at, match_id, mu, sigma FROM (SELECT * FROM {self._s}.billiards_rating_changes "
            "WHERE player = $1 AND kind = $2 AND season = $3 ORDER BY at DESC LIMIT $4) c "
            "ORDER BY at",
            player, kind, ALL, limit,
        )
        return [RatingPoint(r[0], r[1], ordinal(r[2], r[3]), r[2], r[3]) for r in rows]

    async def list_leaderboard(
        self, kind: str, season: str, limit: int = 100, offset: int = 0
    ) -> list[Standing]:
        return (await self.get_leaderboard(kind, season, limit, offset))[1]

    async def get_leaderboard(
        self, kind: str, season: str, limit: int = 100, offset: int = 0
    ) -> tuple[int, list[Standing]]:
        """The board's size and a page of it, in one statement (one round trip)."""
        rows = await self._pool.fetch(
            f"SELECT t.total, p.* FROM (SELECT coalesce(sum(n), 0) AS total FROM "
            f"{self._s}.billiards_rating_buckets WHERE kind = $1 AND season = $2) t "
            "LEFT JOIN LATERAL (SELECT player, name, ordinal, mu, sigma, matches FROM "
            f"{self._s}.billiards_ratings WHERE kind = $1 AND season = $2 "
            "ORDER BY bucket DESC, ordinal DESC, player LIMIT $3 OFFSET $4) p ON true",
            kind, season, limit, offset,
        )
        standings = [_standing(offset + i, row) for i, row in enumerate(rows, start=1)
                     if row["player"] is not None]
        return int(rows[0]["total"]), standings

    async def get_standing(self, kind: str, season: str, player: str) -> Standing:
        """One player's place on a board, without reading the board."""
        return (await self.get_place(kind, season, player))[1]

    async def get_place(self, kind: str, season: str, player: str) -> tuple[int, Standing]:
        """The board's size and one player's place on it, without reading the board: one
        pass over the bucket counts gives both the players above his bucket and the total,
        one index range the players ahead of him in his bucket."""
        s = self._s
        row = await self._pool.fetchrow(
            "SELECT r.player, r.name, r.ordinal, r.mu, r.sigma, r.matches, b.total, "
            f"1 + b.above + (SELECT count(*) FROM {s}.billiards_ratings o WHERE o.kind = r.kind "
            "AND o.season = r.season AND o.bucket = r.bucket AND (o.ordinal > r.ordinal OR "
            "(o.ordinal = r.ordinal AND o.player < r.player))) AS rank "
            f"FROM {s}.billiards_ratings r, LATERAL (SELECT coalesce(sum(n), 0) AS total, "
            "coalesce(sum(n) FILTER (WHERE bucket > r.bucket), 0) AS above "
            f"FROM {s}.billiards_rating_buckets WHERE kind = r.kind AND season = r.season) b "
            "WHERE r.kind = $1 AND r.season = $2 AND r.player = $3",
            kind, season, player,
        )
        if row is None:
            raise PlayerNotFound(f"player {player!r} has no {kind} rating in season {season}")
        return int(row["total"]), _standing(row["rank"], row)

    async def rank_among(
        self, kind: str, season: str, players: Sequence[str], limit: int = 100
    ) -> list[Standing]:
        """A leaderboard of the given players only (a group, one's friends): those with a
        rating on the board, best first, ranked 1.. among themselves."""
        rows = await self._pool.fetch(
            f"SELECT player, name, ordinal, mu, sigma, matches FROM {self._s}.billiards_ratings "
            "WHERE kind = $1 AND season = $2 AND player = ANY($3::text[]) "
            "ORDER BY ordinal DESC, player LIMIT $4",
            kind, season, list(players), limit,
        )
        return [_standing(i, row) for i, row in enumerate(rows, start=1)]

    async def list_rating_changes(self, match_id: UUID) -> list[RatingChangeOut]:
        rows = await self._pool.fetch(
            f"SELECT player, kind, mu_before, sigma_before, mu, sigma, matches "
            f"FROM {self._s}.billiards_rating_changes WHERE match_id = $1 AND season = $2 "
            "ORDER BY player",
            match_id, ALL,
        )
        return [_change(match_id, row) for row in rows]

    async def rating_change(self, match_id: UUID, player: str) -> RatingChangeOut | None:
        """How a counted match moved a player's all-time rating; None when it has not been
        counted (yet), or the player was a guest or not in it."""
        row = await self._pool.fetchrow(
            f"SELECT kind, mu_before, sigma_before, mu, sigma, matches "
            f"FROM {self._s}.billiards_rating_changes "
            "WHERE match_id = $1 AND player = $2 AND season = $3",
            match_id, player, ALL,
        )
        return None if row is None else _change(match_id, row, player)


def _change(match_id: UUID, row: asyncpg.Record, player: str | None = None) -> RatingChangeOut:
    before = ordinal(row["mu_before"], row["sigma_before"])
    after = ordinal(row["mu"], row["sigma"])
    return RatingChangeOut(
        match_id, player or row["player"], row["kind"], before, after, after - before,
        row["mu"], row["sigma"], row["matches"], row["matches"] < PROVISIONAL,
    )
