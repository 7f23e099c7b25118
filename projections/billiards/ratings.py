"""OpenSkill ratings (Plackett–Luce) per game, all-time and per season, updated as each match
is counted in the log's order, so a rebuild gives exactly the live values. Pure.

Only the seats players took are rated (a guest has no rating); their ranks are their places, a
shared place a tie. A rating is shown as its ordinal, μ − 3σ, and is provisional for its first
`PROVISIONAL` matches. A leaderboard ranks by ordinal, best first, then by player id; each rating
sits in a bucket of width 1/`BUCKETS_PER_POINT`, so a rank is a sum over the buckets above and a
count in its own, without reading the board.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.billiards.seasons import ALL, season_of
from projections.billiards import plackett_luce
from projections.billiards.ledger import Finish, Followed

PROVISIONAL = 10
BUCKETS_PER_POINT = 10

Board = tuple[str, str]
"""(game, season)."""
RatingKey = tuple[str, str, str]
"""(game, season, player)."""


class Rating(msgspec.Struct):
    name: str
    mu: float
    sigma: float
    matches: int = 0
    last_match: UUID | None = None

    @property
    def ordinal(self) -> float:
        return ordinal(self.mu, self.sigma)


class RatingChange(msgspec.Struct, frozen=True):
    match_id: UUID
    player: str
    kind: str
    season: str
    at: datetime
    mu_before: float
    sigma_before: float
    mu: float
    sigma: float
    matches: int


def ordinal(mu: float, sigma: float) -> float:
    return mu - 3 * sigma


def bucket_of(value: float) -> int:
    return math.floor(value * BUCKETS_PER_POINT)


class RatingBook:
    def __init__(self, season_months: int = 1) -> None:
        self.season_months = season_months
        self.boards: dict[Board, dict[str, Rating]] = {}
        self.flushed: dict[RatingKey, int] = {}
        """Each stored rating's bucket, as the view holds it."""
        self.dirty: set[RatingKey] = set()
        self.changes: dict[tuple[UUID, str, str], RatingChange | None] = {}

    def count(self, match_id: UUID, match: Followed, finish: Finish) -> None:
        players = match.accounts()
        if len(players) < 2:
            return
        ranks = [float(finish.places[seat]) for seat, _, _ in players]
        undo: dict[str, Any] = {}
        for season in (ALL, season_of(finish.at, self.season_months)):
            board = self.boards.setdefault((match.kind, season), {})
            current = [board.get(account) for _, account, _ in players]
            undo[season] = {
                account: None if rating is None else msgspec.to_builtins(rating)
                for (_, account, _), rating in zip(players, current, strict=True)
            }
            rated = plackett_luce.rate(
                [(plackett_luce.MU, plackett_luce.SIGMA) if r is None else (r.mu, r.sigma)
                 for r in current],
                ranks,
            )
            for (_, account, name), rating, (mu, sigma) in zip(players, current, rated, strict=True):
                if rating is None:
                    rating = board[account] = Rating(name, plackett_luce.MU, plackett_luce.SIGMA)
                before = (rating.mu, rating.sigma)
                rating.name, rating.mu, rating.sigma = name, mu, sigma
                rating.matches += 1
                rating.last_match = match_id
                self.dirty.add((match.kind, season, account))
                if season == ALL:  # the rating's history is kept for the all-time board
                    self.changes[(match_id, account, season)] = RatingChange(
                        match_id, account, match.kind, season, finish.at, *before, mu, sigma,
                        rating.matches,
                    )
        finish.undo["ratings"] = undo

    def uncount(self, match_id: UUID, match: Followed, finish: Finish) -> None:
        """Give each player back his rating from before the match, if it is still his last
        one on that board; otherwise his rating stands (but the change is forgotten)."""
        for season, before in finish.undo.get("ratings", {}).items():
            board = self.boards[(match.kind, season)]
            for account, old in before.items():
                rating = board.get(account)
                if season == ALL:
                    self.changes[(match_id, account, season)] = None
                if rating is None or rating.last_match != match_id:
                    continue
                if old is None:
                    del board[account]
                else:
                    board[account] = msgspec.convert(old, Rating)
                self.dirty.add((match.kind, season, account))

    def get(self, kind: str, season: str, player: str) -> Rating | None:
        return self.boards.get((kind, season), {}).get(player)

    def collect(
        self,
    ) -> tuple[
        list[tuple[RatingKey, Rating | None, int | None]],
        dict[tuple[str, str, int], int],
        dict[tuple[UUID, str, str], RatingChange | None],
    ]:
        """Ratings to write (None: to delete) with their bucket, the change of each bucket's
        count, and rating changes to write (None: to delete)."""
        rows: list[tuple[RatingKey, Rating | None, int | None]] = []
        buckets: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        for key in self.dirty:
            kind, season, player = key
            rating = self.get(kind, season, player)
            new = None if rating is None else bucket_of(rating.ordinal)
            old = self.flushed.get(key)
            if old != new:
                if old is not None:
                    buckets[(kind, season, old)] -= 1
                if new is not None:
                    buckets[(kind, season, new)] += 1
            if new is None:
                self.flushed.pop(key, None)
            else:
                self.flushed[key] = new
            rows.append((key, rating, new))
        changes = self.changes
        self.dirty, self.changes = set(), {}
        return rows, {k: n for k, n in buckets.items() if n}, changes
