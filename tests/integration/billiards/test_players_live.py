"""Stats, ratings, leaderboards and replays on real PostgreSQL and NATS: matches played over
HTTP reach the players read model through the stream; a rebuild gives exactly the live rows;
bad input is a clear 4xx."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import asyncpg
import httpx

from api.app import Node
from domain.billiards.rules import BUILT_IN_IDS
from infra.billiards.players_model import PlayersReadModel
from infra.spine.eventstore import events_table
from infra.spine.runner import ProjectionRunner
from infra.spine.store_reader import StoreReader
from projections.recorded import Columns
from tests.integration.billiards.helpers import a_match, as_user, key, shoot
from tests.integration.conftest import until

TABLES = ("billiards_player_stats", "billiards_ratings", "billiards_rating_buckets",
          "billiards_rating_changes", "billiards_head_to_head", "billiards_player_matches")


async def a_played_match(http: httpx.AsyncClient, winner: str, loser: str) -> str:
    """`winner` creates the match, `loser` joins by the invite; the winner pots 8 at once."""
    body = {
        "template_id": str(BUILT_IN_IDS["american"]),
        "players": [{"name": winner.title(), "me": True}, {"name": loser.title()}],
    }
    answer = await http.post("/api/billiards/matches", json=body, headers=as_user(winner))
    assert answer.status_code == 201, answer.text
    created = answer.json()
    match_id = str(created["id"])
    joined = await http.post(
        f"/api/billiards/matches/{match_id}/join",
        json={"invite": created["invite"], "name": loser.title(), "seat": 1},
        headers=as_user(loser),
    )
    assert joined.status_code == 200, joined.text
    answer = await shoot(http, match_id, user=winner, shooter=0, balls=8)
    assert answer.status_code == 200, answer.text
    return match_id


async def stats_of(http: httpx.AsyncClient, player: str, matches: int) -> dict[str, Any] | None:
    answer = await http.get(f"/api/billiards/players/{player}/stats")
    if answer.status_code != 200:
        return None
    body: dict[str, Any] = answer.json()
    return body if body["games"][0]["matches"] == matches else None


async def test_finished_matches_reach_stats_ratings_and_the_leaderboard(
    parts: Node, client: httpx.AsyncClient
):
    first = await a_played_match(client, "ann", "bob")
    await a_played_match(client, "ann", "bob")
    ann = await until(lambda: stats_of(client, "ann", 2))
    game = ann["games"][0]
    assert (game["kind"], game["wins"], game["losses"], game["balls"]) == ("american", 2, 0, 16)
    assert (game["streak"], game["best_run"], game["win_rate"]) == (2, 8, 1.0)
    assert game["rating"]["provisional"] and game["rating"]["rank"] == 1
    assert ann["head_to_head"][0]["opponent"] == "bob"
    board = (await client.get("/api/billiards/leaderboards/american")).json()
    assert [s["player"] for s in board["standings"]] == ["ann", "bob"] and board["total"] == 2
    place = (await client.get("/api/billiards/leaderboards/american/players/bob?season=current"))
    assert place.json()["standing"]["rank"] == 2
    change = (await client.get(f"/api/billiards/matches/{first}/rating-changes/ann")).json()
    assert change["change"] > 0 and change["kind"] == "american"
    replay = (await client.get(f"/api/billiards/matches/{first}/replay")).json()
    assert [step["scores"] for step in replay["steps"]] == [[8, 0]]
    assert {c["player"] for c in replay["rating_changes"]} == {"ann", "bob"}
    points = (await client.get("/api/billiards/players/ann/ratings/american")).json()["points"]
    assert len(points) == 2 and points[0]["ordinal"] < points[1]["ordinal"]
    history = (await client.get("/api/billiards/players/bob/matches")).json()
    assert [h["result"] for h in history] == ["loss", "loss"] and history[0]["rating_change"] < 0


async def dump(parts: Node) -> dict[str, list[tuple[Any, ...]]]:
    conn = await asyncpg.connect(parts.settings.database_url)
    try:
        s = parts.settings.schema
        return {
            t: sorted(tuple(r) for r in await conn.fetch(f'SELECT * FROM "{s}".{t}'))
            for t in TABLES
        }
    finally:
        await conn.close()


async def test_a_rebuild_gives_exactly_the_live_rows(parts: Node, client: httpx.AsyncClient):
    for winner, loser in (("ann", "bob"), ("bob", "cat"), ("cat", "ann"), ("ann", "cat")):
        await a_played_match(client, winner, loser)
    undone = await a_played_match(client, "bob", "ann")
    answer = await client.post(
        f"/api/billiards/matches/{undone}/undo", json={"key": key()}, headers=as_user("bob")
    )
    assert answer.status_code == 200
    await until(lambda: stats_of(client, "ann", 3))
    runner = parts.runner("billiards_players")
    await until(lambda: _caught_up(parts))
    live = await dump(parts)
    await runner.rebuild()
    await until(lambda: _caught_up(parts))
    assert await dump(parts) == live
    assert len(live["billiards_player_matches"]) == 8
    view = parts["billiards"].stats.players
    board = await view.list_leaderboard("american", "all")
    for place, standing in enumerate(board, start=1):  # ranks by buckets = places on the board
        assert (await view.get_standing("american", "all", standing.player)).rank == place


class SmallPages(StoreReader):
    """The store, read in pages of a few events: a rebuild of many pages."""

    def read_columns(
        self, after: int, *, topics: Sequence[str], upto: int | None = None, page: int = 50_000
    ) -> AsyncGenerator[Columns, None]:
        return super().read_columns(after, topics=topics, upto=upto, page=5)


async def test_a_rebuild_writing_each_page_while_it_applies_the_next_gives_the_live_rows(
    parts: Node, client: httpx.AsyncClient
):
    for winner, loser in (("ann", "bob"), ("bob", "cat"), ("cat", "ann"), ("ann", "cat")):
        await a_played_match(client, winner, loser)
    undone = await a_played_match(client, "bob", "ann")
    answer = await client.post(
        f"/api/billiards/matches/{undone}/undo", json={"key": key()}, headers=as_user("bob")
    )
    assert answer.status_code == 200
    await until(lambda: stats_of(client, "ann", 3))
    await until(lambda: _caught_up(parts))
    live = await dump(parts)
    settings, spine = parts.settings, parts.spine
    rebuilding = ProjectionRunner(
        PlayersReadModel(spine.pool, settings.schema), pool=spine.pool, js=spine.js,
        store=SmallPages(spine.pool, settings.schema, events_table("billiards")),
        schema=settings.schema, stream=settings.events_stream,
        subject=f"{settings.stream_prefix}.ev.billiards.>",
        consumer=f"{settings.stream_prefix}_billiards_players_rebuilt",
    )
    events = await rebuilding.rebuild()
    assert events > 20  # pages of 5 ids: many writes, each begun before the next page
    assert rebuilding.position == parts.runner("billiards_players").position
    assert await dump(parts) == live


async def test_a_restarted_read_model_loads_what_it_had(parts: Node, client: httpx.AsyncClient):
    for winner, loser in (("ann", "bob"), ("bob", "cat")):
        await a_played_match(client, winner, loser)
    await until(lambda: stats_of(client, "cat", 1))
    running = parts.runner("billiards_players").model
    assert isinstance(running, PlayersReadModel)
    fresh = PlayersReadModel(parts.spine.pool, parts.settings.schema)
    await fresh.load()
    was, now = running.projection, fresh.projection
    assert now.stats.players == was.stats.players
    assert now.ratings.boards == was.ratings.boards and now.ratings.flushed == was.ratings.flushed
    assert now.ledger.matches == was.ledger.matches
    assert list(now.ledger.finished) == list(was.ledger.finished)


async def test_a_group_is_ranked_among_itself(parts: Node, client: httpx.AsyncClient):
    for winner, loser in (("ann", "bob"), ("bob", "cat"), ("bob", "dan")):
        await a_played_match(client, winner, loser)
    await until(lambda: stats_of(client, "dan", 1))
    view = parts["billiards"].stats.players
    group = await view.rank_among("american", "all", ["cat", "dan", "ann", "nobody"])
    assert [s.rank for s in group] == [1, 2, 3]
    assert {s.player for s in group} == {"ann", "cat", "dan"}
    assert [s.ordinal for s in group] == sorted((s.ordinal for s in group), reverse=True)


async def _caught_up(parts: Node) -> bool:
    runner = parts.runner("billiards_players")
    matches = parts.runner("billiards_matches")
    return runner.position >= matches.position > 0


async def test_bad_input_is_a_clear_4xx(parts: Node, client: httpx.AsyncClient):
    cases = {
        "/api/billiards/players/nobody/stats": (404, "player_not_found"),
        "/api/billiards/leaderboards/snooker": (422, "unknown_game"),
        "/api/billiards/leaderboards/american?season=2026-13": (422, "invalid_season"),
        "/api/billiards/leaderboards/american/players/nobody": (404, "player_not_found"),
        "/api/billiards/players/ann/ratings/pool": (422, "unknown_game"),
        "/api/billiards/players/a%00b/stats": (422, "invalid_text"),
        "/api/billiards/leaderboards/american/players/a%07b": (422, "invalid_text"),
        "/api/billiards/matches/00000000-0000-0000-0000-000000000001/replay": (
            404, "match_not_found"),
    }
    for url, (status, code) in cases.items():
        answer = await client.get(url)
        assert (answer.status_code, answer.json()["error"]) == (status, code), url
    assert (await client.get("/api/billiards/leaderboards/american?limit=1000")).status_code == 400
    open_match = (await a_match(client))["id"]
    answer = await client.get(f"/api/billiards/matches/{open_match}/replay")
    await until(lambda: _replay_status(client, open_match))
    answer = await client.get(f"/api/billiards/matches/{open_match}/replay")
    assert (answer.status_code, answer.json()["error"]) == (409, "match_not_finished")


async def _replay_status(client: httpx.AsyncClient, match_id: str) -> bool:
    return (await client.get(f"/api/billiards/matches/{match_id}/replay")).status_code == 409
