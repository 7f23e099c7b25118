"""Scoring, as Kahoot does it by default (configurable per game, `Scoring`).

A right answer scores `points × (1 − (t / limit) / 2)`, rounded, where `t` is the time from the
task reaching that player to their answer (answers within `full_within_ms` score full points);
multiple choice scores that times the share of right options picked (each wrong one picked takes
one back); a streak of right answers adds `streak_bonus` per right answer after the first, at
most `streak_cap`, and a wrong or missing answer resets it; polls score nothing and leave streaks
alone. Ties are broken by total answer time.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domain.quiz.errors import InvalidAnswer, InvalidGame


@dataclass(frozen=True)
class Scoring:
    full_within_ms: int = 500
    streak_bonus: int = 100
    streak_cap: int = 500
    speed: bool = True
    """False: a right answer scores its full points whatever its time."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Scoring:
        if not raw:
            return cls()
        known = {"full_within_ms", "streak_bonus", "streak_cap", "speed"}
        unknown = set(raw) - known
        if unknown:
            raise InvalidGame(f"unknown scoring settings: {', '.join(sorted(unknown))}")
        merged = {**cls().to_dict(), **raw}
        for name in ("full_within_ms", "streak_bonus", "streak_cap"):
            value = merged[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
                raise InvalidGame(f"scoring.{name} is an integer from 0 to 10000")
        if not isinstance(merged["speed"], bool):
            raise InvalidGame("scoring.speed is true or false")
        return cls(**merged)


@dataclass(frozen=True)
class Judged:
    fraction: float | None
    """Share of the points earned before time is counted: 1 right, 0 wrong, between for partial
    credit, None for a poll (no right answer)."""
    points: int
    bonus: int

    @property
    def right(self) -> bool:
        return self.fraction == 1.0


def normalised(text: str, case_sensitive: bool) -> str:
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text if case_sensitive else text.casefold()


def _indexes(value: Any, count: int, *, distinct: bool) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count for i in value
    ):
        raise InvalidAnswer(f"the answer is a list of option ids from 0 to {count - 1}")
    if distinct and len(set(value)) != len(value):
        raise InvalidAnswer("each option at most once")
    return value


def fraction_right(task: Mapping[str, Any], answer: Any) -> float | None:
    """How right `answer` is (see `Judged.fraction`); `InvalidAnswer` when it has the wrong
    shape for the task's kind."""
    options = task.get("options") or []
    match task["kind"]:
        case "single" | "true_false" | "poll" if isinstance(answer, int) and not isinstance(
            answer, bool
        ):
            if not 0 <= answer < len(options):
                raise InvalidAnswer(f"the answer is an option id from 0 to {len(options) - 1}")
            return None if task["kind"] == "poll" else float(options[answer]["correct"])
        case "poll":
            _indexes(answer, len(options), distinct=True)
            return None
        case "multiple":
            picked = set(_indexes(answer, len(options), distinct=True))
            if not picked:
                raise InvalidAnswer("pick at least one option")
            right = {i for i, option in enumerate(options) if option["correct"]}
            return max(0, len(picked & right) - len(picked - right)) / len(right)
        case "order":
            order = _indexes(answer, len(options), distinct=True)
            if len(order) != len(options):
                raise InvalidAnswer("order every option")
            return float(order == list(range(len(options))))
        case "type_answer" if isinstance(answer, str):
            if len(answer) > 200:
                raise InvalidAnswer("an answer has at most 200 characters")
            sensitive = task.get("case_sensitive", False)
            given = normalised(answer, sensitive)
            return float(any(given == normalised(a, sensitive) for a in task["accepted"]))
        case "slider" if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            slider = task["slider"]
            if not math.isfinite(answer) or not slider["min"] <= answer <= slider["max"]:
                raise InvalidAnswer(f"the answer is between {slider['min']} and {slider['max']}")
            return float(abs(answer - slider["answer"]) <= slider["tolerance"] + 1e-9)
    raise InvalidAnswer(f"that is not an answer to a {task['kind']} task")


def speed_factor(elapsed_ms: int, limit_ms: int, scoring: Scoring) -> float:
    if not scoring.speed or elapsed_ms <= scoring.full_within_ms:
        return 1.0
    t = min(max(elapsed_ms, 0), limit_ms)
    return 1.0 - (t / limit_ms) / 2


def judge(
    task: Mapping[str, Any], answer: Any, *, elapsed_ms: int, streak: int, scoring: Scoring
) -> Judged:
    """The points an answer earns, given the player's streak of right answers before it."""
    fraction = fraction_right(task, answer)
    if fraction is None or task["points"] == 0:
        return Judged(fraction, 0, 0)
    factor = speed_factor(elapsed_ms, task["time_limit_s"] * 1000, scoring)
    points = math.floor(task["points"] * fraction * factor + 0.5)
    bonus = 0
    if fraction == 1.0:
        bonus = min(scoring.streak_bonus * streak, scoring.streak_cap)
    return Judged(fraction, points, bonus)


def next_streak(streak: int, fraction: float | None, answered: bool) -> int:
    """The streak after a task: +1 for a right answer, 0 after a wrong (or partly right) or
    missing one, unchanged by a poll."""
    if answered and fraction is None:
        return streak
    return streak + 1 if answered and fraction == 1.0 else 0
