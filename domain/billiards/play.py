"""How one shot changes the table, by the rules of its game: pure values, no aggregate.

`Table` is the state between two shots; `play(rules, table, shot)` checks the shot (whose turn,
how many balls remain) and returns the next table, or raises why not. The match aggregate keeps
one `Table` per shot played, so undoing the last shot is taking the previous one back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.billiards.errors import InvalidShot, NotYourTurn, TooManyBalls
from domain.billiards.rules import (
    AMERICAN,
    BALL_VALUE,
    FOUL_KINDS,
    KOLKHOZ,
    MOSCOW,
    OBJECT_BALLS,
    OPPONENT_POINT,
    RETURN_BALL,
    Rules,
)


@dataclass(frozen=True)
class Shot:
    """One shot as the scorekeeper records it."""

    shooter: int
    """The seat that played it."""
    balls: int = 0
    """Object balls pocketed (with valued balls: `len(numbers)`)."""
    numbers: tuple[int, ...] = ()
    """Which balls, when balls have values (Колхоз with coloured balls)."""
    cue: bool = False
    """The cue ball went in too: свояк in Московская, one more ball in Американка."""
    fouls: tuple[str, ...] = ()
    on_ball: int | None = None
    """Колхоз with valued balls: the ball in play, whose value a foul costs."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "shooter": self.shooter,
            "balls": self.balls,
            "numbers": list(self.numbers),
            "cue": self.cue,
            "fouls": list(self.fouls),
            "on_ball": self.on_ball,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Shot:
        return cls(
            shooter=int(stored["shooter"]),
            balls=int(stored["balls"]),
            numbers=tuple(stored.get("numbers") or ()),
            cue=bool(stored.get("cue")),
            fouls=tuple(stored.get("fouls") or ()),
            on_ball=stored.get("on_ball"),
        )


@dataclass(frozen=True)
class Table:
    scores: tuple[int, ...]
    """Per seat: points (Колхоз: the value of the balls pocketed, less fines)."""
    order: tuple[int, ...]
    """Seats in the order they shoot; the first breaks."""
    turn: int
    """Index into `order` of the seat to shoot."""
    on_table: int
    remaining: tuple[int, ...] | None
    """Numbers of the balls still on the table, when balls have values."""
    owed: tuple[int, ...]
    """Balls each seat owes the table (a foul with none to return, `return_ball` mode)."""
    fouls: tuple[int, ...]
    shots: int = 0
    from_hand: bool = True
    """The next shot is played from hand (the break, and after a свояк)."""

    @property
    def shooter(self) -> int:
        return self.order[self.turn]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scores": list(self.scores),
            "order": list(self.order),
            "turn": self.shooter,
            "on_table": self.on_table,
            "remaining": None if self.remaining is None else list(self.remaining),
            "owed": list(self.owed),
            "fouls": list(self.fouls),
            "shots": self.shots,
            "from_hand": self.from_hand,
        }


def opening(rules: Rules, order: Sequence[int]) -> Table:
    seats = len(order)
    return Table(
        scores=(0,) * seats,
        order=tuple(order),
        turn=0,
        on_table=OBJECT_BALLS if rules.valued else rules.balls,
        remaining=tuple(range(1, OBJECT_BALLS + 1)) if rules.valued else None,
        owed=(0,) * seats,
        fouls=(0,) * seats,
    )


def check_shot(rules: Rules, table: Table, shot: Shot) -> None:
    if shot.shooter != table.shooter:
        raise NotYourTurn(f"it is seat {table.shooter}'s turn, not seat {shot.shooter}'s")
    unknown = [kind for kind in shot.fouls if kind not in FOUL_KINDS]
    if unknown:
        raise InvalidShot(f"unknown foul {unknown[0]!r}: one of {', '.join(FOUL_KINDS)}")
    if shot.balls < 0:
        raise InvalidShot("balls is not negative")
    if rules.valued:
        _check_numbers(table, shot)
    elif shot.numbers:
        raise InvalidShot("these balls have no numbers: give how many")
    if shot.on_ball is not None and (not rules.valued or shot.on_ball not in (table.remaining or ())):
        raise InvalidShot("on_ball names a ball on the table, with valued balls only")
    pocketed = shot.balls + (1 if shot.cue and rules.game == AMERICAN else 0)
    if pocketed > table.on_table:
        raise TooManyBalls(f"{pocketed} balls pocketed, {table.on_table} on the table")


def _check_numbers(table: Table, shot: Shot) -> None:
    if len(shot.numbers) != shot.balls:
        raise InvalidShot("with valued balls, numbers lists each ball pocketed")
    if len(set(shot.numbers)) != len(shot.numbers):
        raise InvalidShot("a ball is pocketed once")
    gone = [n for n in shot.numbers if n not in (table.remaining or ())]
    if gone:
        raise TooManyBalls(f"ball {gone[0]} is not on the table")


def play(rules: Rules, table: Table, shot: Shot) -> Table:
    """The table after `shot`; raises a `BilliardsError` (and changes nothing) when it cannot be."""
    check_shot(rules, table, shot)
    foul = bool(shot.fouls) or (shot.cue and rules.game == KOLKHOZ)
    if foul:
        return _fined(rules, table, shot)
    return _scored(rules, table, shot)


def _fined(rules: Rules, table: Table, shot: Shot) -> Table:
    """Illegally pocketed balls are re-spotted; the foul is fined once, the turn passes."""
    seat = shot.shooter
    scores, owed = list(table.scores), list(table.owed)
    fouls = list(table.fouls)
    fouls[seat] += 1
    on_table = table.on_table
    if rules.foul_penalty == OPPONENT_POINT:
        for other in table.order:
            if other != seat:
                scores[other] += 1
    elif rules.foul_penalty == RETURN_BALL:
        if scores[seat] > 0:
            scores[seat] -= 1
            on_table += 1
        else:
            owed[seat] += 1
    elif rules.foul_penalty == BALL_VALUE:
        scores[seat] -= rules.value_of(shot.on_ball) if shot.on_ball is not None else 1
    # built whole rather than by `dataclasses.replace`, which cost a fifth of a shot's time
    return Table(
        tuple(scores), table.order, (table.turn + 1) % len(table.order), on_table,
        table.remaining, tuple(owed), tuple(fouls), table.shots + 1, False,
    )


def _scored(rules: Rules, table: Table, shot: Shot) -> Table:
    seat = shot.shooter
    scores, owed = list(table.scores), list(table.owed)
    on_table = table.on_table - shot.balls
    remaining = table.remaining
    if rules.valued:
        points = sum(rules.value_of(n) for n in shot.numbers)
        remaining = tuple(n for n in table.remaining or () if n not in shot.numbers)
    else:
        points = shot.balls
    from_hand = False
    if shot.cue and rules.game == AMERICAN:
        points += 1
        on_table -= 1
    elif shot.cue and rules.game == MOSCOW:
        points += 1  # the свояк scores; an object ball comes off to keep the count
        on_table = max(0, on_table - 1)
        from_hand = True
    pay = min(owed[seat], points) if rules.foul_penalty == RETURN_BALL else 0
    owed[seat] -= pay
    scores[seat] += points - pay
    on_table += pay
    potted = shot.balls > 0 or shot.cue
    return Table(
        tuple(scores), table.order, table.turn if potted else (table.turn + 1) % len(table.order),
        on_table, remaining, tuple(owed), table.fouls, table.shots + 1, from_hand,
    )


def winner_by_target(rules: Rules, table: Table) -> int | None:
    if rules.target is None:
        return None
    leaders = [seat for seat in table.order if table.scores[seat] >= rules.target]
    return leaders[0] if leaders else None
