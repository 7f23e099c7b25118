"""A match: its players, the rules of the template version it was created from, and every shot.

Each shot is an event; undoing the last one is an event too. The aggregate keeps one `Table` per
shot played, so an undo takes the previous one back. The end (a target reached, the table
cleared, an agreed draw, a resignation, players stopping) is followed by the final standings as
an event of their own, `Finished`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.billiards.board import scoreboard
from domain.billiards.errors import (
    DrawNotAllowed,
    InvalidMatch,
    MatchFull,
    MatchOver,
    MatchStarted,
    NotAPlayer,
    NothingToUndo,
    NotScorekeeper,
    WrongInvite,
)
from domain.billiards.keys import ClientKeys, Outcome
from domain.billiards.play import Shot, Table, opening, play, winner_by_target
from domain.billiards.rules import KOLKHOZ, Rules
from domain.billiards.standings import (
    DRAW,
    RESIGNED,
    STOPPED,
    TABLE_CLEARED,
    TARGET,
    results,
    standings,
)

MAX_NAME = 64

def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidMatch(f"a player's name has 1 to {MAX_NAME} characters")
    return name


class BilliardsMatch(Aggregate):
    class Created(Aggregate.Created):
        template_id: UUID
        template_version: int
        template_name: str
        rules: dict[str, Any]
        players: list[dict[str, Any]]
        order: list[int]
        creator: str
        invite_hash: str
        table_id: str | None

    def __init__(
        self,
        template_id: UUID,
        template_version: int,
        template_name: str,
        rules: dict[str, Any],
        players: list[dict[str, Any]],
        order: list[int],
        creator: str,
        invite_hash: str,
        table_id: str | None,
    ) -> None:
        self.template_id = template_id
        self.template_version = template_version
        self.template_name = template_name
        self.rules = Rules.from_dict(rules)
        self.players = [dict(player) for player in players]
        self.creator = creator
        self.scorekeeper = creator
        self.invite_hash = invite_hash
        self.table_id = table_id
        self.tables: list[Table] = [opening(self.rules, order)]
        self.shots: list[dict[str, Any]] = []
        self.finished: dict[str, Any] | None = None
        self.keys = ClientKeys()

    @classmethod
    def create(
        cls,
        *,
        match_id: UUID,
        template_id: UUID,
        template_version: int,
        template_name: str,
        rules: Rules,
        players: Sequence[Mapping[str, Any]],
        order: Sequence[int],
        creator: str,
        invite_hash: str,
        table_id: str | None = None,
        now: datetime,
    ) -> BilliardsMatch:
        seats = [
            {"name": check_name(str(p["name"])), "account": p.get("account")} for p in players
        ]
        if not rules.min_players <= len(seats) <= rules.max_players:
            raise InvalidMatch(f"this game has {rules.min_players} to {rules.max_players} players")
        if sorted(order) != list(range(len(seats))):
            raise InvalidMatch("order names every seat once")
        accounts = [seat["account"] for seat in seats if seat["account"]]
        if len(set(accounts)) != len(accounts):
            raise InvalidMatch("an account takes one seat")
        return cls._create(
            cls.Created,
            id=match_id,
            timestamp=now,
            template_id=template_id,
            template_version=template_version,
            template_name=template_name,
            rules=rules.as_dict(),
            players=seats,
            order=list(order),
            creator=creator,
            invite_hash=invite_hash,
            table_id=table_id,
        )

    # -- queries ----------------------------------------------------------------------------------

    @property
    def table(self) -> Table:
        return self.tables[-1]

    @property
    def started(self) -> bool:
        return len(self.tables) > 1

    def seat_of(self, account: str) -> int | None:
        for seat, player in enumerate(self.players):
            if player["account"] == account:
                return seat
        return None

    def names(self) -> list[str]:
        return [str(player["name"]) for player in self.players]

    def board(self) -> dict[str, Any]:
        """The scoreboard as players and spectators see it."""
        return scoreboard(
            match_id=str(self.id),
            version=self.version,
            rules=self.rules,
            template_id=str(self.template_id),
            template_version=self.template_version,
            template_name=self.template_name,
            players=self.players,
            scorekeeper=self.scorekeeper,
            table_id=self.table_id,
            table=self.table,
            shots=self.shots,
            finished=self.finished,
        )

    # -- decisions --------------------------------------------------------------------------------

    def join(
        self, *, account: str, name: str, invite_hash: str, seat: int | None, now: datetime
    ) -> Outcome:
        """An account with the invite link takes a guest's seat, or a new one before the break."""
        known = self.seat_of(account)
        if known is not None:
            return Outcome(self.version, replayed=True)
        if invite_hash != self.invite_hash:
            raise WrongInvite("this invite is not for this match")
        self._open()
        if seat is not None:
            if not 0 <= seat < len(self.players) or self.players[seat]["account"]:
                raise InvalidMatch("that seat is taken")
        else:
            if self.started:
                raise MatchStarted("new seats only before the break")
            if len(self.players) >= self.rules.max_players:
                raise MatchFull(f"this game has at most {self.rules.max_players} players")
        self.trigger_event(
            self.PlayerJoined, timestamp=now, seat=seat, account=account, name=check_name(name)
        )
        return Outcome(self.version)

    def add_guest(self, *, by: str, name: str, now: datetime) -> Outcome:
        self._player(by)
        self._open()
        if self.started:
            raise MatchStarted("new seats only before the break")
        if len(self.players) >= self.rules.max_players:
            raise MatchFull(f"this game has at most {self.rules.max_players} players")
        self.trigger_event(
            self.PlayerJoined, timestamp=now, seat=None, account=None, name=check_name(name)
        )
        return Outcome(self.version)

    def set_order(self, *, by: str, order: Sequence[int], now: datetime) -> Outcome:
        """Who breaks (the first of `order`) and, in Колхоз, the rotation set by hand."""
        self._player(by)
        self._open()
        if self.started:
            raise MatchStarted("the order is fixed once the break is played")
        if sorted(order) != list(range(len(self.players))):
            raise InvalidMatch("order names every seat once")
        self.trigger_event(self.OrderSet, timestamp=now, order=list(order))
        return Outcome(self.version)

    def take_over(self, *, by: str, now: datetime) -> Outcome:
        self._player(by)
        if self.scorekeeper == by:
            return Outcome(self.version, replayed=True)
        self.trigger_event(self.ScorekeeperChanged, timestamp=now, account=by)
        return Outcome(self.version)

    def record_shot(self, *, by: str, key: str, shot: Shot, now: datetime) -> Outcome:
        replayed = self.keys.replayed(key, "shot", shot.as_dict())
        if replayed is not None:
            return replayed
        self._keeper(by)
        self._open()
        if not 0 <= shot.shooter < len(self.players):
            raise InvalidMatch(f"no seat {shot.shooter}")
        after = play(self.rules, self.table, shot)  # raises: nothing changes
        self.trigger_event(
            self.ShotRecorded, timestamp=now, key=key, by=by, shot=shot.as_dict()
        )
        winner = winner_by_target(self.rules, after)
        if winner is not None:
            self._finish(TARGET, now, winner=winner)
        elif after.on_table == 0:
            self._finish(TABLE_CLEARED, now, winner=self._leader())
        return Outcome(self.version)

    def undo(self, *, by: str, key: str, now: datetime) -> Outcome:
        replayed = self.keys.replayed(key, "undo", {})
        if replayed is not None:
            return replayed
        self._keeper(by)
        if self.finished is not None and self.finished["reason"] not in (TARGET, TABLE_CLEARED):
            raise MatchOver("the match ended by agreement: there is no shot to undo")
        if not self.shots:
            raise NothingToUndo("no shot has been played")
        self.trigger_event(self.ShotUndone, timestamp=now, key=key, by=by)
        return Outcome(self.version)

    def agree_draw(self, *, by: str, key: str, now: datetime) -> Outcome:
        replayed = self.keys.replayed(key, "draw", {})
        if replayed is not None:
            return replayed
        self._keeper(by)
        self._open()
        scores = set(self.table.scores)
        if not self.rules.draw_allowed or self.rules.game == KOLKHOZ or len(scores) != 1:
            raise DrawNotAllowed("a draw may be agreed only at level scores, if the rules allow")
        self.trigger_event(self.Ended, timestamp=now, key=key, by=by, reason=DRAW, seat=None)
        self._finish(DRAW, now)
        return Outcome(self.version)

    def resign(self, *, by: str, key: str, seat: int | None, now: datetime) -> Outcome:
        """A player gives up (the scorekeeper may say so for a guest's seat)."""
        own = self.seat_of(by)
        target = own if seat is None else seat
        replayed = self.keys.replayed(key, "resign", {"seat": target})
        if replayed is not None:
            return replayed
        self._player(by)
        self._open()
        if target is None or not 0 <= target < len(self.players):
            raise InvalidMatch("name the seat that resigns")
        if target != own and by != self.scorekeeper:
            raise NotScorekeeper("only the scorekeeper resigns for another seat")
        self.trigger_event(self.Ended, timestamp=now, key=key, by=by, reason=RESIGNED, seat=target)
        others = [seat for seat in self.table.order if seat != target]
        winner = others[0] if len(others) == 1 else self._leader(exclude=target)
        self._finish(RESIGNED, now, winner=winner, resigned=target)
        return Outcome(self.version)

    def stop(self, *, by: str, key: str, now: datetime) -> Outcome:
        """Колхоз: the players stop; the standings stand as they are."""
        replayed = self.keys.replayed(key, "stop", {})
        if replayed is not None:
            return replayed
        self._keeper(by)
        self._open()
        if self.rules.game != KOLKHOZ:
            raise InvalidMatch("only Колхоз is stopped; agree a draw or resign")
        self.trigger_event(self.Ended, timestamp=now, key=key, by=by, reason=STOPPED, seat=None)
        self._finish(STOPPED, now, winner=self._leader())
        return Outcome(self.version)

    def _finish(
        self, reason: str, now: datetime, *, winner: int | None = None, resigned: int | None = None
    ) -> None:
        placed = standings(
            self.rules, self.table, self.names(), reason, winner=winner, resigned=resigned
        )
        self.trigger_event(
            self.Finished, timestamp=now, reason=reason, winner=winner, standings=placed
        )

    def _leader(self, exclude: int | None = None) -> int | None:
        ranked = results(self.rules, self.table)
        seats = [seat for seat in self.table.order if seat != exclude]
        best = max(ranked[seat] for seat in seats)
        leaders = [seat for seat in seats if ranked[seat] == best]
        return leaders[0] if len(leaders) == 1 else None

    def _player(self, account: str) -> int:
        seat = self.seat_of(account)
        if seat is None:
            raise NotAPlayer("only the match's players may do that")
        return seat

    def _keeper(self, account: str) -> None:
        self._player(account)
        if account != self.scorekeeper:
            raise NotScorekeeper("the scorekeeper records; take over first")

    def _open(self) -> None:
        if self.finished is not None:
            raise MatchOver("the match is over")

    # -- events -----------------------------------------------------------------------------------

    class PlayerJoined(Aggregate.Event):
        seat: int | None
        account: str | None
        name: str

        def apply(self, match: BilliardsMatch) -> None:
            if self.seat is not None:
                match.players[self.seat] = {"name": self.name, "account": self.account}
                return
            match.players.append({"name": self.name, "account": self.account})
            table = match.table
            order = (*table.order, len(match.players) - 1)
            match.tables[0] = opening(match.rules, order)

    class OrderSet(Aggregate.Event):
        order: list[int]

        def apply(self, match: BilliardsMatch) -> None:
            match.tables[0] = opening(match.rules, self.order)

    class ScorekeeperChanged(Aggregate.Event):
        account: str

        def apply(self, match: BilliardsMatch) -> None:
            match.scorekeeper = self.account

    class ShotRecorded(Aggregate.Event):
        key: str
        by: str
        shot: dict[str, Any]

        def apply(self, match: BilliardsMatch) -> None:
            shot = Shot.from_dict(self.shot)
            match.tables.append(play(match.rules, match.table, shot))
            match.shots.append({**self.shot, "version": self.originator_version})
            match.keys.remember(self.key, "shot", self.shot, self.originator_version)

    class ShotUndone(Aggregate.Event):
        key: str
        by: str

        def apply(self, match: BilliardsMatch) -> None:
            match.tables.pop()
            match.shots.pop()
            match.finished = None
            match.keys.remember(self.key, "undo", {}, self.originator_version)

    class Ended(Aggregate.Event):
        key: str
        by: str
        reason: str
        seat: int | None

        def apply(self, match: BilliardsMatch) -> None:
            payload = {"seat": self.seat} if self.reason == RESIGNED else {}
            kind = {DRAW: "draw", RESIGNED: "resign"}.get(self.reason, "stop")
            match.keys.remember(self.key, kind, payload, self.originator_version)

    class Finished(Aggregate.Event):
        reason: str
        winner: int | None
        standings: list[dict[str, Any]]

        def apply(self, match: BilliardsMatch) -> None:
            match.finished = {
                "reason": self.reason,
                "winner": self.winner,
                "standings": self.standings,
            }
