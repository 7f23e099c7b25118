"""Players' stats per game, their head-to-head records and match histories, counted from the
matches the ledger hands over as finished (and taken back when an undo reopens one). Pure.

A turn is a player's run of shots until one scores nothing or is a foul; its balls are his run.
A player's result: first place alone is a win, a place shared by all (or first place shared) a
draw, anything else a loss; against one opponent, the better place wins.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from projections.billiards.ledger import Finish, Followed

WIN, LOSS, DRAW = "win", "loss", "draw"


class PlayerStats(msgspec.Struct):
    name: str
    matches: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    balls: int = 0
    fouls: int = 0
    turns: int = 0
    best_run: int = 0
    streak: int = 0
    longest_streak: int = 0
    last_match: UUID | None = None
    last_at: datetime | None = None


class Line(msgspec.Struct, frozen=True):
    """One player's part of one match."""

    balls: int
    fouls: int
    turns: int
    best_run: int


class HistoryRow(msgspec.Struct, frozen=True):
    player: str
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


def lines(match: Followed) -> list[Line]:
    seats = len(match.seats)
    balls, fouls, turns, best = [0] * seats, [0] * seats, [0] * seats, [0] * seats
    shooter: int | None = None
    run = 0
    for seat, scored, foul in match.shots:
        if seat >= seats:
            continue
        if shooter != seat:
            shooter, run = seat, 0
            turns[seat] += 1
        balls[seat] += scored
        fouls[seat] += foul
        run += scored
        best[seat] = max(best[seat], run)
        if foul or not scored:
            shooter = None  # the turn passes
    return [Line(balls[s], fouls[s], turns[s], best[s]) for s in range(seats)]


def result_of(places: list[int], seat: int) -> str:
    mine = places[seat]
    if all(place == mine for place in places):
        return DRAW
    if mine == 1:
        return WIN if places.count(1) == 1 else DRAW
    return LOSS


def versus(mine: int, theirs: int) -> str:
    return WIN if mine < theirs else LOSS if mine > theirs else DRAW


_COUNTER = {WIN: "wins", LOSS: "losses", DRAW: "draws"}
HeadToHeadKey = tuple[str, str, str]
"""(player, game, opponent)."""


class StatsBook:
    def __init__(self) -> None:
        self.players: dict[tuple[str, str], PlayerStats] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.head_to_head = _versus_changes()
        """Changes since the last collect: matches, wins, losses, draws, opponent's name."""
        self.history: dict[tuple[str, UUID], HistoryRow | None] = {}
        """Rows to write (None: to delete) since the last collect."""

    def count(self, match_id: UUID, match: Followed, finish: Finish) -> None:
        per_seat = lines(match)
        players = match.accounts()
        undo: dict[str, Any] = {}
        for seat, account, name in players:
            line = per_seat[seat]
            result = result_of(finish.places, seat)
            key = (account, match.kind)
            stats = self.players.get(key)
            undo[account] = None if stats is None else msgspec.to_builtins(stats)
            if stats is None:
                stats = self.players[key] = PlayerStats(name)
            stats.name = name
            stats.matches += 1
            setattr(stats, _COUNTER[result], getattr(stats, _COUNTER[result]) + 1)
            stats.balls += line.balls
            stats.fouls += line.fouls
            stats.turns += line.turns
            stats.best_run = max(stats.best_run, line.best_run)
            stats.streak = stats.streak + 1 if result == WIN else 0
            stats.longest_streak = max(stats.longest_streak, stats.streak)
            stats.last_match, stats.last_at = match_id, finish.at
            self.dirty.add(key)
            self.history[(account, match_id)] = HistoryRow(
                account, match_id, match.kind, finish.at, finish.places[seat],
                len(match.seats), result, line.balls, line.fouls, line.turns, line.best_run,
                [other for s, (_, other) in enumerate(match.seats) if s != seat],
            )
            self._versus(match, finish, seat, account, 1)
        finish.undo["stats"] = undo

    def uncount(self, match_id: UUID, match: Followed, finish: Finish) -> None:
        """Take a match back: exactly, for a player whose last match it still is; otherwise
        its sums only (his best run and streaks stand)."""
        per_seat = lines(match)
        undo: dict[str, Any] = finish.undo.get("stats", {})
        for seat, account, _ in match.accounts():
            if account not in undo:
                continue
            key = (account, match.kind)
            stats = self.players[key]
            before = undo[account]
            if stats.last_match == match_id:
                if before is None:
                    del self.players[key]
                else:
                    self.players[key] = msgspec.convert(before, PlayerStats)
            else:
                line, result = per_seat[seat], result_of(finish.places, seat)
                stats.matches -= 1
                setattr(stats, _COUNTER[result], getattr(stats, _COUNTER[result]) - 1)
                stats.balls -= line.balls
                stats.fouls -= line.fouls
                stats.turns -= line.turns
            self.dirty.add(key)
            self.history[(account, match_id)] = None
            self._versus(match, finish, seat, account, -1)

    def _versus(self, match: Followed, finish: Finish, seat: int, account: str, sign: int) -> None:
        for other, opponent, name in match.accounts():
            if other == seat:
                continue
            change = self.head_to_head[(account, match.kind, opponent)]
            change[0] += sign
            change[{WIN: 1, LOSS: 2, DRAW: 3}[versus(finish.places[seat], finish.places[other])]] += sign
            change[4] = name

    def collect(
        self,
    ) -> tuple[
        list[tuple[str, str, PlayerStats | None]],
        dict[HeadToHeadKey, list[Any]],
        dict[tuple[str, UUID], HistoryRow | None],
    ]:
        rows = [(player, kind, self.players.get((player, kind))) for player, kind in self.dirty]
        h2h, history = dict(self.head_to_head), self.history
        self.dirty, self.head_to_head, self.history = set(), _versus_changes(), {}
        return rows, h2h, history


def _versus_changes() -> defaultdict[HeadToHeadKey, list[Any]]:
    return defaultdict(lambda: [0, 0, 0, 0, ""])
