"""The rules a match is played by: three built-in games and templates derived from them.

A template is a base game plus parameters; every parameter is validated here, and one this
module does not know is refused. A match stores the rules it was created with (`as_dict`), so a
later edit of its template never changes an old result.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from uuid import UUID

from domain.billiards.errors import InvalidParameter, UnknownGame, UnknownParameter

AMERICAN = "american"
MOSCOW = "moscow"
KOLKHOZ = "kolkhoz"
GAMES = (AMERICAN, MOSCOW, KOLKHOZ)

FOUL_KINDS = ("miss", "cue_off_table", "ball_off_table", "double_hit", "touch")
"""What a foul may be; several in one shot are fined once."""

OPPONENT_POINT = "opponent_point"
RETURN_BALL = "return_ball"
BALL_VALUE = "ball_value"
SCORING = ("direct", "plain")
ROTATIONS = ("lot", "random", "manual")
OBJECT_BALLS = 15
MAX_PLAYERS = 8
MAX_TARGET = 120
MAX_BALL_VALUE = 100
MAX_STAKE = 1_000_000


@dataclass(frozen=True)
class Rules:
    game: str
    target: int | None
    """First to this many points wins; None: play until the table is cleared or players stop."""
    balls: int
    """Balls that score, on the table at the break (Американка: all 16, any may be the cue)."""
    foul_penalty: str
    removed_ball_by: str
    """Московская: who picks the object ball taken off after a свояк (`opponent` or `shooter`)."""
    min_players: int
    max_players: int
    ball_values: tuple[int, ...] | None
    """Колхоз: the value of balls 1..15 (None: every ball is worth 1)."""
    rotation: str
    scoring: str
    stake: int
    """Per point, only shown (money is never handled)."""
    draw_allowed: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(_as_dict(self))  # every scoreboard carries it: worked out once per rules

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Rules:
        values = dict(stored)
        if values.get("ball_values") is not None:
            values["ball_values"] = tuple(values["ball_values"])
        return cls(**values)

    def value_of(self, ball: int) -> int:
        return 1 if self.ball_values is None else self.ball_values[ball - 1]

    @property
    def valued(self) -> bool:
        return self.ball_values is not None

    def derive(self, params: Mapping[str, Any]) -> Rules:
        """These rules with `params` changed; raises `UnknownParameter` or `InvalidParameter`."""
        changes: dict[str, Any] = {}
        for name, value in params.items():
            check = _CHECKS.get(name)
            if check is None:
                raise UnknownParameter(f"unknown template parameter {name!r}")
            if name in _KOLKHOZ_ONLY and self.game != KOLKHOZ:
                raise InvalidParameter(f"{name} applies to Колхоз only")
            if name in _TWO_PLAYER_ONLY and self.game == KOLKHOZ:
                raise InvalidParameter(f"{name} does not apply to Колхоз")
            changes[name] = check(name, value)
        if "players" in changes:
            low, high = changes.pop("players")
            changes["min_players"], changes["max_players"] = low, high
        derived = replace(self, **changes)
        if derived.game != KOLKHOZ and (derived.min_players, derived.max_players) != (2, 2):
            raise InvalidParameter("Американка and Московская are played by two")
        if derived.foul_penalty == BALL_VALUE and derived.game != KOLKHOZ:
            raise InvalidParameter("ball_value fouls are Колхоз's")
        if derived.game == KOLKHOZ and derived.foul_penalty != BALL_VALUE:
            raise InvalidParameter("a foul in Колхоз costs the value of the ball in play")
        return derived


@functools.lru_cache(maxsize=1024)
def _as_dict(rules: Rules) -> dict[str, Any]:
    values = asdict(rules)
    values["ball_values"] = None if rules.ball_values is None else list(rules.ball_values)
    return values


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameter(f"{name} is a whole number from {low} to {high}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidParameter(f"{name} is one of {', '.join(choices)}")
    return str(value)


def _target(name: str, value: Any) -> int | None:
    return None if value is None else _integer(name, value, 1, MAX_TARGET)


def _players(name: str, value: Any) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidParameter("players is a number, or [least, most]")
    low = _integer(name, value[0], 2, MAX_PLAYERS)
    high = _integer(name, value[1], low, MAX_PLAYERS)
    return low, high


def _ball_values(name: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != OBJECT_BALLS:
        raise InvalidParameter(f"ball_values lists the value of each of the {OBJECT_BALLS} balls")
    return tuple(_integer(name, item, 1, MAX_BALL_VALUE) for item in value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameter(f"{name} is true or false")
    return value


_CHECKS: dict[str, Any] = {
    "target": _target,
    "foul_penalty": lambda n, v: _choice(n, v, (OPPONENT_POINT, RETURN_BALL, BALL_VALUE)),
    "removed_ball_by": lambda n, v: _choice(n, v, ("opponent", "shooter")),
    "players": _players,
    "ball_values": _ball_values,
    "rotation": lambda n, v: _choice(n, v, ROTATIONS),
    "scoring": lambda n, v: _choice(n, v, SCORING),
    "stake": lambda n, v: _integer(n, v, 0, MAX_STAKE),
    "draw_allowed": _flag,
}
PARAMETERS = tuple(_CHECKS)
_KOLKHOZ_ONLY = frozenset({"players", "ball_values", "rotation", "scoring", "stake"})
_TWO_PLAYER_ONLY = frozenset({"removed_ball_by", "draw_allowed"})


BUILT_IN: dict[str, Rules] = {
    AMERICAN: Rules(
        game=AMERICAN, target=8, balls=16, foul_penalty=OPPONENT_POINT,
        removed_ball_by="opponent", min_players=2, max_players=2, ball_values=None,
        rotation="manual", scoring="plain", stake=0, draw_allowed=True,
    ),
    MOSCOW: Rules(
        game=MOSCOW, target=8, balls=OBJECT_BALLS, foul_penalty=OPPONENT_POINT,
        removed_ball_by="opponent", min_players=2, max_players=2, ball_values=None,
        rotation="manual", scoring="plain", stake=0, draw_allowed=True,
    ),
    KOLKHOZ: Rules(
        game=KOLKHOZ, target=None, balls=OBJECT_BALLS, foul_penalty=BALL_VALUE,
        removed_ball_by="opponent", min_players=2, max_players=MAX_PLAYERS, ball_values=None,
        rotation="lot", scoring="direct", stake=0, draw_allowed=False,
    ),
}
BUILT_IN_NAMES = {AMERICAN: "Американка", MOSCOW: "Московская", KOLKHOZ: "Колхоз"}
BUILT_IN_IDS = {
    game: UUID(int=0xB111A2D5_0000_4000_8000_000000000000 + index)
    for index, game in enumerate(GAMES, start=1)
}
"""Fixed ids of the built-in templates (version 1, never edited)."""


def built_in(game: str) -> Rules:
    try:
        return BUILT_IN[game]
    except KeyError:
        raise UnknownGame(f"no game {game!r}: one of {', '.join(GAMES)}") from None


def built_in_game(template_id: UUID) -> str | None:
    for game, known in BUILT_IN_IDS.items():
        if known == template_id:
            return game
    return None
