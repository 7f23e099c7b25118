"""Plain factories for billiards matches and shots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import count
from typing import Any
from uuid import uuid4

from domain.billiards.match import BilliardsMatch
from domain.billiards.play import Shot
from domain.billiards.rules import BUILT_IN_IDS, built_in

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ACCOUNTS = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal"]
_keys = count(1)


def a_match(
    game: str = "american",
    players: int = 2,
    params: Mapping[str, Any] | None = None,
    order: list[int] | None = None,
) -> BilliardsMatch:
    rules = built_in(game).derive(params or {})
    return BilliardsMatch.create(
        match_id=uuid4(),
        template_id=BUILT_IN_IDS[game],
        template_version=1,
        template_name=game,
        rules=rules,
        players=[{"name": name.title(), "account": name} for name in ACCOUNTS[:players]],
        order=order if order is not None else list(range(players)),
        creator="ann",
        invite_hash="h",
        now=NOW,
    )


def shot(shooter: int, balls: int = 0, **fields: Any) -> Shot:
    if "numbers" in fields:
        fields["numbers"] = tuple(fields["numbers"])
    if "fouls" in fields:
        fields["fouls"] = tuple(fields["fouls"])
    return Shot(shooter=shooter, balls=balls, **fields)


def play_all(match: BilliardsMatch, shots: Iterable[Shot]) -> BilliardsMatch:
    for one in shots:
        match.record_shot(by=match.scorekeeper, key=f"k{next(_keys)}", shot=one, now=NOW)
    return match


def key() -> str:
    return f"k{next(_keys)}"
