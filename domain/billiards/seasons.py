"""Seasons of the leaderboards: a run of calendar months (one by default) named by its first
month, `YYYY-MM`, in UTC; `all` is the all-time board."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from domain.billiards.errors import InvalidSeason, UnknownGame
from domain.billiards.rules import GAMES

ALL = "all"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def season_of(at: datetime, months: int = 1) -> str:
    """The season a match finished at `at` counts in."""
    at = at.astimezone(UTC)
    index = (at.year * 12 + at.month - 1) // months * months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_season(text: str, months: int = 1) -> str:
    if text == ALL:
        return ALL
    found = _MONTH.fullmatch(text)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise InvalidSeason(f"a season is {ALL!r} or its first month as YYYY-MM, not {text!r}")
    if (int(found[1]) * 12 + int(found[2]) - 1) % months:
        raise InvalidSeason(f"seasons last {months} months: {text} is not the first of one")
    return text


def check_game(kind: str) -> str:
    if kind not in GAMES:
        raise UnknownGame(f"no game {kind!r}: one of {', '.join(GAMES)}")
    return kind
