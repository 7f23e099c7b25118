"""Matches on real PostgreSQL and NATS: two phones on one match see every shot, undo, resume from
a version, and the standings the read model folds are byte-identical to the live ones."""

from __future__ import annotations

import httpx
import msgspec
import websockets

from api.app import Node
from tests.integration.billiards.helpers import (
    a_match,
    as_user,
    key,
    receive,
    shoot,
    until_synced,
)
from tests.integration.conftest import serving, until


def live_url(port: int, match_id: str, since: int = 0) -> str:
    return f"ws://127.0.0.1:{port}/api/billiards/matches/{match_id}/live?since={since}"


async def test_two_phones_on_one_match_both_see_every_shot(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        created = await a_match(http)
        match_id = created["id"]
        joined = await http.post(
            f"/api/billiards/matches/{match_id}/join",
            json={"invite": created["invite"], "name": "Bob", "seat": 1},
            headers=as_user("bob"),
        )
        assert joined.status_code == 200, joined.text
        async with (
            websockets.connect(live_url(port, match_id)) as ann,
            websockets.connect(live_url(port, match_id)) as bob,
        ):
            for phone in (ann, bob):
                frames = await until_synced(phone)
                assert frames[0]["type"] == "board" and frames[0]["board"]["players"][1]["account"] == "bob"
            assert (await shoot(http, match_id, shooter=0, balls=2)).status_code == 200
            assert (await shoot(http, match_id, shooter=0)).status_code == 200
            took = await http.post(
                f"/api/billiards/matches/{match_id}/takeover", headers=as_user("bob")
            )
            assert took.status_code == 200
            answer = await shoot(http, match_id, user="bob", shooter=1, balls=3)
            assert answer.status_code == 200, answer.text
            last = answer.json()["version"]
            for phone in (ann, bob):
                seen = []
                while not seen or seen[-1]["version"] < last:
                    seen.append(await receive(phone))
                assert [frame["version"] for frame in seen] == list(range(3, last + 1))
                assert seen[-1]["board"]["scores"] == [2, 3]
                assert seen[-1]["board"]["scorekeeper"] == "bob"


async def test_undo_is_an_event_every_watcher_sees(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        match_id = (await a_match(http))["id"]
        async with websockets.connect(live_url(port, match_id)) as watcher:
            await until_synced(watcher)
            await shoot(http, match_id, shooter=0, balls=3)
            undone = await http.post(
                f"/api/billiards/matches/{match_id}/undo", json={"key": key()}, headers=as_user("ann")
            )
            assert undone.status_code == 200
            assert undone.json()["board"]["scores"] == [0, 0]
            shot_frame, undo_frame = await receive(watcher), await receive(watcher)
            assert shot_frame["events"][0]["kind"] == "ShotRecorded"
            assert undo_frame["events"][0]["kind"] == "ShotUndone"
            assert undo_frame["board"]["scores"] == [0, 0] and undo_frame["board"]["shots"] == 0


async def test_a_reconnecting_client_resumes_from_its_last_version(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        match_id = (await a_match(http))["id"]
        await shoot(http, match_id, shooter=0, balls=1)  # version 2
        await shoot(http, match_id, shooter=0, balls=1)  # version 3
        await shoot(http, match_id, shooter=0)  # version 4
        async with websockets.connect(live_url(port, match_id, since=2)) as late:
            frames = await until_synced(late)
        assert [f["version"] for f in frames[:-1]] == [3, 4]
        assert frames[-1] == {"type": "synced", "version": 4}
        assert frames[-1]["version"] == frames[-2]["board"]["version"]


async def test_the_read_models_standings_are_byte_identical_to_the_live_ones(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        match_id = (await a_match(http))["id"]
        for shot in (
            {"shooter": 0, "balls": 3}, {"shooter": 0, "fouls": ["miss"]},
            {"shooter": 1, "balls": 4}, {"shooter": 1}, {"shooter": 0, "balls": 5},
        ):
            answer = await shoot(http, match_id, **shot)
            assert answer.status_code == 200, answer.text
        live = answer.json()["board"]
        assert live["finished"]["reason"] == "target"

        async def projected():
            board = await parts["billiards"].boards.find_board(__import__("uuid").UUID(match_id))
            return board if board and board["version"] == live["version"] else None

        folded = await until(projected)
        assert msgspec.json.encode(folded) == msgspec.json.encode(live)
        served = (await http.get(f"/api/billiards/matches/{match_id}")).json()
        assert served["finished"] == live["finished"]


async def test_the_scorekeeper_records_on_the_socket_and_is_answered_after_commit(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        match_id = (await a_match(http))["id"]
        async with (
            websockets.connect(live_url(port, match_id), additional_headers=as_user("ann")) as keeper,
            websockets.connect(live_url(port, match_id)) as watcher,
        ):
            await until_synced(keeper)
            await until_synced(watcher)
            await keeper.send(msgspec.json.encode({"type": "shot", "key": "s1", "shooter": 0, "balls": 2}))
            frames = [await receive(keeper), await receive(keeper)]
            ack = next(f for f in frames if f["type"] == "ack")
            assert ack == {"type": "ack", "key": "s1", "version": 2, "replayed": False}
            assert (await receive(watcher))["board"]["scores"] == [2, 0]
            await keeper.send(msgspec.json.encode({"type": "shot", "key": "s2", "shooter": 1}))
            refused = await receive(keeper)
            assert refused["type"] == "error" and refused["error"] == "not_your_turn"
            assert refused["key"] == "s2"
            await watcher.send(msgspec.json.encode({"type": "undo", "key": "u1"}))
            assert (await receive(watcher))["error"] == "unauthenticated"
