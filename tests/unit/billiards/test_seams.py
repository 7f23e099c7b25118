"""The seams' adapters over a ratings board (a fake with the stats side's shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from api.billiards.seams import changes_on, ranks_on


class Board:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, list[str]]] = []
        self.match = uuid4()

    async def rank_among(
        self, kind: str, season: str, players: Sequence[str], limit: int = 100
    ) -> Sequence[Any]:
        self.asked.append((kind, season, list(players)))
        return [SimpleNamespace(rank=1, player="bob", name="Bob", ordinal=21.26, matches=4)]

    async def rating_change(self, match_id: UUID, player: str) -> Any | None:
        return SimpleNamespace(change=-1.5) if (match_id, player) == (self.match, "ann") else None


async def test_a_group_is_ranked_on_the_board_it_names():
    board = Board()
    rows = await ranks_on(board, "moscow")(["ann", "bob"])
    assert board.asked == [("moscow", "all", ["ann", "bob"])]
    assert rows == [{"account": "bob", "name": "Bob", "rating": 21.3, "rank": 1, "matches": 4}]


async def test_a_rating_change_is_the_ordinals():
    board = Board()
    change = changes_on(board)
    assert await change(str(board.match), "ann") == -1.5
    assert await change(str(board.match), "bob") is None
