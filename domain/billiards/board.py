"""The scoreboard players and spectators see, built the same way from the aggregate and from the
read model (which keeps a match's shots and folds them with `replay`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.billiards.play import Shot, Table, opening, play
from domain.billiards.rules import Rules


def replay(rules: Rules, order: Sequence[int], shots: Sequence[Mapping[str, Any]]) -> Table:
    """The table after `shots`, played from the break."""
    table = opening(rules, order)
    for shot in shots:
        table = play(rules, table, Shot.from_dict(shot))
    return table


def scoreboard(
    *,
    match_id: str,
    version: int,
    rules: Rules,
    template_id: str,
    template_version: int,
    template_name: str,
    players: Sequence[Mapping[str, Any]],
    scorekeeper: str,
    table_id: str | None,
    table: Table,
    shots: Sequence[Mapping[str, Any]],
    finished: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": match_id,
        "version": version,
        "game": rules.game,
        "template_id": template_id,
        "template_version": template_version,
        "template_name": template_name,
        "rules": rules.as_dict(),
        "players": [{"name": p["name"], "account": p["account"]} for p in players],
        "scorekeeper": scorekeeper,
        "table_id": table_id,
        **table.as_dict(),
        "last_shot": _shot(shots[-1]) if shots else None,
        "finished": None if finished is None else _finished(finished),
    }


# Stored as JSONB, which orders keys its own way: each part comes out in one order, so a board
# folded from the read model is byte for byte the one the aggregate gives.
_ENTRY = ("seat", "name", "score", "result", "money", "place")


def _shot(shot: Mapping[str, Any]) -> dict[str, Any]:
    return {**Shot.from_dict(shot).as_dict(), "version": shot["version"]}


def _finished(finished: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "reason": finished["reason"],
        "winner": finished["winner"],
        "standings": [{k: entry[k] for k in _ENTRY} for entry in finished["standings"]],
    }
