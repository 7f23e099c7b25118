"""A finished match shot by shot, from the matches read model: each shot with the table after
it, folded by the rules the match was created with (`domain.billiards.play`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from domain.billiards.errors import MatchNotFinished, MatchNotFound
from domain.billiards.play import Shot, opening, play
from domain.billiards.rules import Rules
from infra.billiards.views import board_of
from infra.spine.readmodels import quote_ident


def steps(rules: Rules, order: list[int], shots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per shot: the shot and the table it left (scores, whose turn, balls on the table)."""
    table = opening(rules, order)
    out = []
    for number, stored in enumerate(shots, start=1):
        shot = Shot.from_dict(stored)
        table = play(rules, table, shot)
        out.append({
            "number": number,
            "shot": shot.as_dict(),
            "scores": list(table.scores),
            "turn": table.shooter,
            "on_table": table.on_table,
        })
    return out


class ReplaysView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def get_replay(self, match_id: UUID) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            f"SELECT match_id, version, template_id, template_version, template_name, "
            "rules::text, players::text, seat_order::text, scorekeeper, table_id, shots::text, "
            f"finished::text, created_at, updated_at FROM {self._s}.billiards_matches "
            "WHERE match_id = $1",
            match_id,
        )
        if row is None:
            raise MatchNotFound(f"no match {match_id}")
        if row["finished"] is None:
            raise MatchNotFinished(f"match {match_id} is not finished: no replay yet")
        rules = Rules.from_dict(msgspec.json.decode(row["rules"]))
        shots = msgspec.json.decode(row["shots"])
        return {
            "board": board_of(row),
            "started_at": row["created_at"],
            "finished_at": row["updated_at"],
            "steps": steps(rules, msgspec.json.decode(row["seat_order"]), shots),
        }
