"""`GET /api/desk/{id}?at_seq=N`: a desk as it was at any of its versions (its op N), folded
from its events in the store."""

from __future__ import annotations

import pytest

from tests.integration.desk.desk_sessions import signed_desk_clients  # noqa: F401 -- autouse
from tests.integration.desk.test_desks import a_desk, an_op


async def a_desk_with_history(client) -> dict:
    made = await a_desk(client)
    desk = made["desk_id"]
    ops = [
        an_op(1, create=True, text="one"),
        an_op(2, text="two"),
        an_op(3, sticker="s2", create=True, text="other"),
        an_op(4, text="three", x=40),
    ]
    for seq, op in enumerate(ops, start=1):
        await client.post(f"/api/desk/{desk}/ops", json=op)
        if seq == 2:
            await client.post(f"/api/desk/{desk}/finish",
                              json={"creator_token": made["creator_token"]})
    return made


def texts(body: dict) -> dict[str, str]:
    return {sticker["id"]: sticker["text"] for sticker in body["stickers"]}


async def test_a_desk_at_each_of_its_versions_shows_the_stickers_it_had_then(client):
    desk = (await a_desk_with_history(client))["desk_id"]
    seen = {}
    for seq in range(5):
        answer = await client.get(f"/api/desk/{desk}", params={"at_seq": seq})
        assert answer.status_code == 200, answer.text
        seen[seq] = answer.json()
    assert [seen[seq]["desk_seq"] for seq in range(5)] == [0, 1, 2, 3, 4]
    assert [texts(seen[seq]) for seq in range(5)] == [
        {}, {"s1": "one"}, {"s1": "two"}, {"s1": "two", "s2": "other"},
        {"s1": "three", "s2": "other"},
    ]
    assert [seen[seq]["epoch"] for seq in range(5)] == [1, 1, 2, 2, 2]
    assert seen[2]["name"] == "retro"


async def test_the_last_version_equals_the_desk_now(client):
    desk = (await a_desk_with_history(client))["desk_id"]
    now = (await client.get(f"/api/desk/{desk}")).json()
    folded = await client.get(f"/api/desk/{desk}", params={"at_seq": 4})
    assert folded.json() == now
    sticker = next(s for s in now["stickers"] if s["id"] == "s1")
    assert sticker["x"] == 40


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "", " ", "1e3", "99999999999999999999"])
async def test_a_version_that_is_not_a_whole_number_is_422(client, bad):
    desk = (await a_desk_with_history(client))["desk_id"]
    answer = await client.get(f"/api/desk/{desk}", params={"at_seq": bad})
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_version")
    assert "at_seq" in answer.json()["detail"]


async def test_a_version_the_desk_has_not_reached_is_404(client):
    desk = (await a_desk_with_history(client))["desk_id"]
    answer = await client.get(f"/api/desk/{desk}", params={"at_seq": 5})
    assert (answer.status_code, answer.json()["error"]) == (404, "version_not_found")
    assert answer.json()["last"] == 4


async def test_an_unknown_desk_at_a_version_is_404(client):
    answer = await client.get("/api/desk/AAAAAAAAAAAAAAAAAAAAAA", params={"at_seq": 1})
    assert (answer.status_code, answer.json()["error"]) == (404, "desk_not_found")
