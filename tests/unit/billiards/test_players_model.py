"""The players read model's write: every table in one batch, and who is told, after the commit,
which matches were counted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.billiards.billiards import Billiards
from infra.billiards.players_model import PlayersReadModel
from tests.unit.billiards.factories import NOW, a_match, play_all, shot
from tests.unit.billiards.test_players_projection import events_of


class Connection:
    """Takes what a write sends (the runner gives it a real one): the rows COPYed, by table."""

    def __init__(self) -> None:
        self.copied: dict[str, list[Any]] = {}

    async def execute(self, statement: str, *args: Any) -> str:
        return "OK"

    async def fetchval(self, statement: str, *args: Any) -> Any:
        return None  # no temporary table is there yet

    async def copy_records_to_table(self, table: str, *, records: list[Any]) -> str:
        self.copied[table] = records
        return "COPY"


async def test_a_batch_writes_its_rows_and_tells_of_its_counted_matches():
    told: list[list[UUID]] = []

    async def tell(matches: list[UUID]) -> None:
        told.append(matches)

    model = PlayersReadModel(None, "s", on_counted=tell)  # type: ignore[arg-type]
    app = Billiards(clock=lambda: NOW)
    try:
        match = play_all(a_match(), [shot(0, 8)])
        app.save(match)
        for event in events_of(app):
            model.apply(event)
    finally:
        app.close()
    conn = Connection()
    after = await model.write(conn)  # type: ignore[arg-type]
    tables = {staging.removesuffix("_in") for staging in conn.copied}
    assert tables == {
        "billiards_players_ledger", "billiards_player_stats", "billiards_head_to_head",
        "billiards_player_matches", "billiards_ratings", "billiards_rating_buckets",
        "billiards_rating_changes",
    }
    assert after is not None and told == []
    await after()
    assert told == [[match.id]]
    assert await model.write(Connection()) is None  # type: ignore[arg-type]
