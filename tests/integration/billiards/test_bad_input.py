"""Bad input gets a clear 4xx and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from api.app import Node
from domain.billiards.rules import BUILT_IN_IDS
from tests.integration.billiards.helpers import a_match, as_user, key, shoot


async def version_of(parts: Node, match_id: str) -> int:
    import asyncio
    import uuid

    match = await asyncio.to_thread(parts["billiards"].app.get_match, uuid.UUID(match_id))
    return int(match.version)


@pytest.fixture
async def http(parts: Node):
    from api.app import create_app

    transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        yield client


async def test_a_shot_out_of_turn_is_409(parts: Node, http: httpx.AsyncClient):
    match_id = (await a_match(http))["id"]
    answer = await shoot(http, match_id, shooter=1, balls=1)
    assert answer.status_code == 409
    assert answer.json()["error"] == "not_your_turn"
    assert await version_of(parts, match_id) == 1


async def test_more_balls_than_remain_is_422(parts: Node, http: httpx.AsyncClient):
    match_id = (await a_match(http, "moscow"))["id"]
    await shoot(http, match_id, shooter=0, balls=7)
    answer = await shoot(http, match_id, shooter=0, balls=9)
    assert answer.status_code == 422 and answer.json()["error"] == "too_many_balls"
    assert await version_of(parts, match_id) == 2


async def test_a_shot_after_the_end_is_409(parts: Node, http: httpx.AsyncClient):
    match_id = (await a_match(http))["id"]
    await shoot(http, match_id, shooter=0, balls=8)
    version = await version_of(parts, match_id)
    answer = await shoot(http, match_id, shooter=0, balls=1)
    assert answer.status_code == 409 and answer.json()["error"] == "match_over"
    assert await version_of(parts, match_id) == version


async def test_an_unknown_template_parameter_is_422(parts: Node, http: httpx.AsyncClient):
    answer = await http.post(
        "/api/billiards/templates",
        json={"base": "american", "name": "Ours", "params": {"beer_per_foul": 1}},
        headers=as_user("ann"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "unknown_parameter"
    listed = await http.get("/api/billiards/templates", headers=as_user("ann"))
    assert [t["built_in"] for t in listed.json()] == [True, True, True]


async def test_someone_not_playing_cannot_record(parts: Node, http: httpx.AsyncClient):
    match_id = (await a_match(http))["id"]
    answer = await shoot(http, match_id, user="mallory", shooter=0, balls=1)
    assert answer.status_code == 403 and answer.json()["error"] == "not_a_player"
    assert await version_of(parts, match_id) == 1


async def test_an_unknown_match_is_404(http: httpx.AsyncClient):
    answer = await http.post(
        f"/api/billiards/matches/{BUILT_IN_IDS['american']}/undo",
        json={"key": key()},
        headers=as_user("ann"),
    )
    assert answer.status_code == 404 and answer.json()["error"] == "match_not_found"


async def test_an_unknown_field_in_a_shot_is_400(parts: Node, http: httpx.AsyncClient):
    match_id = (await a_match(http))["id"]
    answer = await shoot(http, match_id, shooter=0, balls=1, spin="left")
    assert answer.status_code == 400
    assert await version_of(parts, match_id) == 1
